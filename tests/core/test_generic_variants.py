"""The generic extractor on layouts it has never seen: every fixture page, made
unfamiliar three ways, must still give the expected title, time, author and body.

* ``div``: paragraphs as ``<div>`` instead of ``<p>``;
* ``noclass``: every ``class`` and ``id`` attribute removed (no name to go by:
  only structure, text density and the Vietnamese labels are left);
* ``noh1``: the title heading demoted to a ``<div>``.
"""

from __future__ import annotations

import re

import pytest
from test_fixtures import CASES, load_case

from scraper.extract import extract_article

_ATTRS = re.compile(rb"""\s(?:class|id)=(?:"[^"]*"|'[^']*')""")
VARIANTS = {
    "div": lambda html: html.replace(b"<p", b"<div").replace(b"</p>", b"</div>"),
    "noclass": lambda html: _ATTRS.sub(b"", html),
    "noh1": lambda html: html.replace(b"<h1", b"<div").replace(b"</h1>", b"</div>"),
}
FIELDS = ("title", "published", "author", "body_paragraphs")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generic_extractor_on_unfamiliar_variants(variant: str) -> None:
    failures = []
    for case in CASES:
        html, spec = load_case(case)
        expected = spec.get("expected")
        if not expected:
            continue
        a = extract_article(VARIANTS[variant](html), spec["url"], profile="generic")
        got = {"title": a.title, "author": a.author, "body_paragraphs": a.body.split("\n\n"),
               "published": a.published.isoformat() if a.published else None}
        failures += [(case, f) for f in FIELDS if f in expected and got[f] != expected[f]]
    assert not failures, failures
