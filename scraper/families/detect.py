"""Platform detection: which layout family a site runs, from a few of its pages.

:func:`detect` is a pure function of pages already fetched (URL, status,
headers, body). It weighs, per family:

* the family's own :class:`~scraper.families.signals.Signal` list
  (generator meta, scripts and asset paths, class names, response headers,
  cookies, link and feed paths), each counted once with its weight;
* its profile recognising a page as one of its articles (weight
  :data:`PROFILE_WEIGHT`);
* its link rules classifying the pages' links as articles (weight
  :data:`LINK_WEIGHT` for one, twice that for :data:`MANY_LINKS` or more):
  URL shapes alone are weak, families share some (SharePoint's
  ``/portal/Pages/<date>/…aspx``).

The family with the highest score wins when it reaches :data:`THRESHOLD`
and leads the next one by :data:`MARGIN`; otherwise the site is
``generic``. Core layer: no network, no clock; the CLI fetches the pages.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from lxml.etree import ParserError
from lxml.html import HtmlElement

from scraper.families import LayoutFamily, families

__all__ = ["LINK_WEIGHT", "MANY_LINKS", "MARGIN", "PROFILE_WEIGHT", "THRESHOLD", "Detection",
           "FetchedPage", "detect"]

#: A profile recognising one of the pages as its article.
PROFILE_WEIGHT = 5
#: Links the family's rules take for articles (doubled from MANY_LINKS links).
LINK_WEIGHT = 1
MANY_LINKS = 3
#: The least score a family needs to be named.
THRESHOLD = 4
#: How far the winner must lead the runner-up.
MARGIN = 2

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
#: ``(url, status, headers, body)`` of one fetched page.
FetchedPage = tuple[str, int, Headers, "str | bytes"]

_GENERATOR = re.compile(
    r"<meta\b(?=[^>]*\bname\s*=\s*[\"']?generator\b)[^>]*\bcontent\s*=\s*[\"']([^\"']*)", re.I)
_GENERATOR_REV = re.compile(
    r"<meta\b(?=[^>]*\bcontent\s*=\s*[\"']([^\"']*))[^>]*\bname\s*=\s*[\"']?generator\b", re.I)
#: URLs a page refers to: links, sources, and the page's own declared URLs.
_REFS = re.compile(r"\b(?:href|src|action)\s*=\s*[\"']([^\"'#]+)"
                   r"|<meta\b[^>]*\bproperty\s*=\s*[\"']og:(?:url|image)[\"'][^>]*\bcontent\s*=\s*"
                   r"[\"']([^\"']+)", re.I)


@dataclass(frozen=True)
class Detection:
    #: The family's name, or ``generic``.
    family: str
    #: 0..1: how clearly the pages speak for it (0 for ``generic``).
    confidence: float
    #: What was found, strongest first, each line naming its weight.
    evidence: list[str]
    #: Every family's score (those above zero).
    scores: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"family": self.family, "confidence": self.confidence,
                "evidence": list(self.evidence), "scores": dict(self.scores)}


@dataclass
class _Seen:
    """What the pages show, gathered once for every family."""

    generators: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    #: Root-relative paths (with query) of same-site references.
    paths: list[str] = field(default_factory=list)
    #: Absolute same-site references.
    urls: list[str] = field(default_factory=list)
    #: ``(url, parsed page)`` of the HTML pages.
    docs: list[tuple[str, str, HtmlElement]] = field(default_factory=list)


def _decode(body: str | bytes) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _header_items(headers: Headers) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, Mapping) else headers


def _gather(pages: Sequence[FetchedPage]) -> _Seen:
    seen = _Seen()
    for url, status, headers, body in pages:
        for name, value in _header_items(headers):
            seen.headers.append(f"{name}: {value}")
            if name.lower() == "set-cookie":
                seen.cookies.append(value.split("=", 1)[0].strip())
        if not 200 <= status < 300:
            continue
        text = _decode(body)
        seen.texts.append(text)
        seen.generators += [m.group(1).strip() for m in _GENERATOR.finditer(text)]
        seen.generators += [m.group(1).strip() for m in _GENERATOR_REV.finditer(text)]
        host = urlsplit(url).hostname
        for m in _REFS.finditer(text):
            ref = (m.group(1) or m.group(2) or "").strip().replace("&amp;", "&")
            if not ref or ref.startswith(("javascript:", "mailto:", "data:")):
                continue
            absolute = urljoin(url, ref)
            parts = urlsplit(absolute)
            if parts.scheme not in ("http", "https") or parts.hostname != host:
                continue
            seen.urls.append(absolute)
            seen.paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        if text.lstrip()[:1] == "<" and "<rss" not in text[:300]:
            with contextlib.suppress(ValueError, ParserError):  # not HTML after all
                seen.docs.append((url, text, lxml_html.document_fromstring(text)))
    return seen


def _score(record: LayoutFamily, seen: _Seen) -> tuple[int, list[tuple[int, str]]]:
    found: list[tuple[int, str]] = []
    for signal in record.signals:
        pool = {"generator": seen.generators, "html": seen.texts, "header": seen.headers,
                "cookie": seen.cookies, "link": seen.paths}[signal.where]
        hit = next((s for s in pool if signal.regex.search(s)), None)
        if hit is not None:
            found.append((signal.weight, signal.says))
    profile = record.profile
    if profile is not None:
        for url, text, doc in seen.docs:
            if (not profile.hint or profile.hint in text) and profile.matches(doc):
                found.append((PROFILE_WEIGHT, f"its profile recognises {url} as an article"))
                break
    if record.links.article is not None:
        articles = sorted({u for u in seen.urls if record.links.classify(u) == "article"})
        if articles:
            weight = LINK_WEIGHT * (2 if len(articles) >= MANY_LINKS else 1)
            found.append((weight, f"{len(articles)} links shaped like its articles "
                                  f"(e.g. {urlsplit(articles[0]).path})"))
    found.sort(key=lambda f: -f[0])
    return sum(w for w, _ in found), found


def detect(pages: Sequence[FetchedPage]) -> Detection:
    """The layout family the ``pages`` (one site's) were made by, with the evidence."""
    seen = _gather(pages)
    results = {name: _score(record, seen) for name, record in families().items()
               if name != "generic"}
    scores = {name: score for name, (score, _) in results.items() if score > 0}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return Detection("generic", 0.0, ["no family's signals found"], {})
    best, score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    evidence = [f"[{w:+d}] {says}" for w, says in results[best][1]]
    if score < THRESHOLD or score - second < MARGIN:
        why = (f"{best} scores {score} (needs {THRESHOLD})" if score < THRESHOLD else
               f"{best} ({score}) and {ranked[1][0]} ({second}) are too close")
        return Detection("generic", 0.0, [why, *evidence], scores)
    confidence = round(min(1.0, score / 10) * (score - second) / score, 2)
    return Detection(best, confidence, evidence, scores)
