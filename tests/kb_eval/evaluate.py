"""Load the evaluation corpus and measure a backend: MRR@5 and recall@5.

- reciprocal rank: 1/rank of the first expected article in the top 5 (0 if none is there);
- recall@5: the share of the expected articles found in the top 5, out of at most 5 (a query
  with seven right answers is complete with five of them).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.db import DbSession, utcnow
from kb import indexing
from kb.models import Article, ArticleStatus, Category, Visibility
from kb.search import SearchIndex, SearchQuery
from tests.kb_eval.corpus import TOPICS
from tests.kb_eval.queries import QUERIES

CATEGORY_NAMES = {
    "hardware": ("Matériel", "Hardware"),
    "internet": ("Internet et Wi-Fi", "Internet and Wi-Fi"),
    "phone": ("Téléphone et mobile", "Phone and mobile"),
    "tv": ("Télévision", "TV"),
    "billing": ("Facturation", "Billing"),
    "account": ("Compte client", "Account"),
    "delivery": ("Commandes et livraison", "Orders and delivery"),
    "technician": ("Interventions", "Technician visits"),
}


def load_corpus(session: DbSession, index: SearchIndex) -> dict[tuple[str, str], int]:
    """Every topic as a published public article in fr and en (linked as translations), indexed
    in one rebuild. Returns {(topic key, locale): article id}."""
    cats = {}
    for position, (slug, (fr, en)) in enumerate(CATEGORY_NAMES.items()):
        cats[slug] = Category(slug=slug, name_fr=fr, name_en=en, position=position)
    session.add_all(cats.values())
    ids: dict[tuple[str, str], int] = {}
    now = utcnow()
    for key, category, fr_title, fr_body, en_title, en_body in TOPICS:
        pair = []
        for locale, title, body in (("fr", fr_title, fr_body), ("en", en_title, en_body)):
            article = Article(
                title=title,
                body=body,
                locale=locale,
                status=ArticleStatus.PUBLISHED,
                visibility=Visibility.PUBLIC,
                tags=[],
                categories=[cats[category]],
                version=1,
                created_at=now,
                updated_at=now,
                published_at=now,
            )
            session.add(article)
            pair.append((locale, article))
        session.flush()
        for locale, article in pair:
            article.translation_group = pair[0][1].id
            ids[(key, locale)] = article.id
    session.commit()
    indexing.rebuild(session, index)
    return ids


@dataclass
class QueryResult:
    locale: str
    query: str
    kind: str
    expected: tuple[str, ...]
    found: list[str]
    reciprocal_rank: float
    recall: float


def evaluate(index: SearchIndex, ids: dict[tuple[str, str], int]) -> list[QueryResult]:
    keys = {article_id: key for (key, _locale), article_id in ids.items()}
    out = []
    for locale, text, expected, kind in QUERIES:
        page = index.search(SearchQuery(text=text, locale=locale, limit=5))
        found = [keys.get(h.id, "?") for h in page.hits]
        rank = next((i + 1 for i, k in enumerate(found) if k in expected), None)
        hits = len(set(found) & set(expected))
        out.append(
            QueryResult(
                locale=locale,
                query=text,
                kind=kind,
                expected=expected,
                found=found,
                reciprocal_rank=1 / rank if rank else 0.0,
                recall=hits / min(len(expected), 5),
            )
        )
    return out


def summary(results: list[QueryResult]) -> dict[str, float]:
    n = len(results)
    return {
        "queries": n,
        "mrr@5": round(sum(r.reciprocal_rank for r in results) / n, 3),
        "recall@5": round(sum(r.recall for r in results) / n, 3),
    }
