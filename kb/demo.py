"""A few knowledge-base articles for the demo data, in French and English (translations)."""

from __future__ import annotations

from helpdesk.db import DbSession
from kb import service

CATEGORIES = [
    ("hardware", "Matériel", "Hardware"),
    ("internet", "Internet et Wi-Fi", "Internet and Wi-Fi"),
    ("billing", "Facturation", "Billing"),
    ("account", "Compte client", "Account"),
]

# (category, visibility, (fr title, fr body), (en title, en body))
ARTICLES = [
    ("hardware", "public",
     ("L'imprimante ne s'allume plus",
      "Si le voyant reste éteint :\n\n1. Vérifiez le **câble d'alimentation** et la prise murale.\n"
      "2. Maintenez le bouton marche **dix secondes**.\n3. Essayez une autre prise.\n\n"
      "Si rien ne change, l'imprimante est sous garantie deux ans : demandez un échange."),
     ("The printer does not turn on",
      "If the light stays off:\n\n1. Check the **power cable** and the wall socket.\n"
      "2. Hold the power button for **ten seconds**.\n3. Try another socket.\n\n"
      "If nothing changes, the printer has a two-year warranty: ask for a replacement.")),
    ("internet", "public",
     ("Redémarrer la box internet",
      "Débranchez la box, attendez **trente secondes**, rebranchez-la. La synchronisation prend "
      "environ trois minutes ; le voyant passe alors au blanc fixe."),
     ("Restarting the internet router",
      "Unplug the router, wait **thirty seconds**, plug it back in. It takes about three minutes "
      "to sync; the light then turns steady white.")),
    ("internet", "public",
     ("Retrouver la clé Wi-Fi",
      "La clé de sécurité par défaut est imprimée sur l'étiquette sous la box. Pour la changer : "
      "interface de la box, rubrique *Wi-Fi*."),
     ("Finding the Wi-Fi key",
      "The default security key is printed on the label under the router. To change it: router "
      "interface, *Wi-Fi* section.")),
    ("billing", "public",
     ("Télécharger sa facture",
      "Vos factures des douze derniers mois sont dans l'espace client, rubrique **Factures**, "
      "au format PDF."),
     ("Downloading your invoice",
      "Your invoices for the last twelve months are in your account, under **Invoices**, as PDF.")),
    ("billing", "internal",
     ("Geste commercial : barème",
      "| situation | geste |\n|---|---|\n| technicien absent | 20 € |\n"
      "| panne de plus de 48 h | un mois offert |\n\nÀ saisir dans l'outil de facturation."),
     ("Goodwill credit: the scale",
      "| situation | credit |\n|---|---|\n| technician did not come | €20 |\n"
      "| outage over 48 h | one month free |\n\nEnter it in the billing tool.")),
    ("account", "public",
     ("Mot de passe oublié",
      "Cliquez sur *Mot de passe oublié* sur la page de connexion : un lien valable une heure "
      "vous est envoyé par courriel."),
     ("Forgotten password",
      "Click *Forgotten password* on the sign-in page: we e-mail you a link valid for one hour.")),
]  # fmt: skip


def seed_articles(session: DbSession) -> int:
    """Categories and published articles (each with its translation); returns how many."""
    for position, (slug, name_fr, name_en) in enumerate(CATEGORIES):
        service.ensure_category(
            session, slug=slug, name_fr=name_fr, name_en=name_en, position=position
        )
    count = 0
    for category, visibility, (fr_title, fr_body), (en_title, en_body) in ARTICLES:
        fr = service.create_article(
            session, title=fr_title, body=fr_body, locale="fr", status="published",
            visibility=visibility, categories=[category],
        )  # fmt: skip
        service.create_article(
            session, title=en_title, body=en_body, locale="en", status="published",
            visibility=visibility, categories=[category], translation_of=fr.id,
        )  # fmt: skip
        count += 2
    return count
