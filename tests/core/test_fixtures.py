"""One parametrised test over every case in tests/fixtures/.

A case is a folder with ``page.html`` (the page as served) and
``expected.json``::

    {"url": "...", "profile": null | "generic" | "<name>",
     "expected": {field: value, ...},       # compared exactly
     "absent": ["text that must not appear anywhere in the article", ...],
     "not_an_article": "reason"}            # instead of "expected"

Fields: any ``Article`` field; ``published`` as ISO 8601 with offset;
``body_paragraphs`` (the body split on blank lines); ``images`` as a list of
``{"url", "caption"}`` (plus ``alt`` when given); ``attachments`` as a list of
``{"url", "name", "type"}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scraper.extract import Article, NotAnArticle, extract_article

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").exists())


def load_case(name: str) -> tuple[bytes, dict[str, Any]]:
    folder = FIXTURES / name
    return (folder / "page.html").read_bytes(), json.loads((folder / "expected.json").read_text("utf-8"))


def actual_value(article: Article, field: str, spec: Any) -> Any:
    if field == "published":
        return article.published.isoformat() if article.published else None
    if field == "body_paragraphs":
        return article.body.split("\n\n") if article.body else []
    if field == "images":
        keys = set().union(*(img.keys() for img in spec)) if spec else {"url", "caption"}
        return [{k: getattr(img, k) for k in sorted(keys)} for img in article.images]
    if field == "attachments":
        return [{"url": a.url, "name": a.name, "kind": a.kind} for a in article.attachments]
    return getattr(article, field)


def all_text(article: Article) -> str:
    parts = [article.title, article.body, article.body_html, article.author or "",
             article.category or ""]
    parts += [img.caption or "" for img in article.images]
    return "\n".join(parts)


def test_there_are_fixtures() -> None:
    assert len(CASES) >= 2


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    html, spec = load_case(case)
    if "not_an_article" in spec:
        with pytest.raises(NotAnArticle) as info:
            extract_article(html, spec["url"], profile=spec.get("profile"))
        assert info.value.reason == spec["not_an_article"]
        return
    article = extract_article(html, spec["url"], profile=spec.get("profile"))
    for field, expected in spec["expected"].items():
        if field == "images":
            expected = [{k: img[k] for k in sorted(img)} for img in expected]
        assert actual_value(article, field, expected) == expected, f"{case}: {field}"
    text = all_text(article)
    leaked = [s for s in spec.get("absent", []) if s in text]
    assert not leaked, f"{case}: widget text leaked: {leaked}"
