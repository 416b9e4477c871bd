"""The mail simulator's text with its links: addresses become links, everything else stays text."""

from __future__ import annotations

from agents_ui.safety import linked


def test_web_addresses_become_links_and_the_rest_is_escaped():
    text = 'Sign in: http://localhost:5617/portal/link/abc?lang=fr. <b>"Thanks"</b>'
    html = str(linked(text))
    assert (
        '<a href="http://localhost:5617/portal/link/abc?lang=fr" rel="noopener noreferrer">'
        "http://localhost:5617/portal/link/abc?lang=fr</a>." in html
    )
    assert "&lt;b&gt;&#34;Thanks&#34;&lt;/b&gt;" in html and "<b>" not in html


def test_other_schemes_and_forged_quotes_stay_text():
    html = str(linked('javascript:alert(1) http://x.example/"onmouseover=alert(1)'))
    assert "<a " in html and 'href="http://x.example/"' in html
    assert "onmouseover=alert(1)" in html and '"onmouseover' not in html.split("</a>")[0]
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
