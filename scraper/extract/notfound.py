"""Soft 404s: a page that says "not found" while its status says 200 OK.

Many portals answer a deleted article with their full template (menus, poll,
visitor counter) around a notice such as "Bài viết không tồn tại hoặc đã bị
xóa", and status 200. A crawl that verifies archived articles must tell that
page from the article. Two signs, both pure functions of the page:

* **The probe.** :func:`page_signature` of the page the portal serves for a
  URL that cannot exist (the spider asks for one when it starts verifying
  articles). A page as similar to it as :data:`SAME_PAGE` (Jaccard of word
  trigrams, digits left out: visitor counters and dates change between two
  views) is that page again, whatever its wording.
* **The notice.** The page's ``<title>`` or first heading *is* a not-found
  notice (:func:`not_found_notice`): the notice's words make at least half of
  it. An article whose title merely contains "không tìm thấy" (a missing
  person's search) is not taken for one.
"""

from __future__ import annotations

import re
import zlib

from lxml import etree
from lxml import html as lxml_html

from scraper.extract.text import fold

#: Jaccard similarity of word trigrams above which a page is the probe's page.
SAME_PAGE = 0.9
#: Share of a title's or heading's words a not-found notice must make.
NOTICE_SHARE = 0.5

_NOTICE = re.compile(
    r"\b(?:loi\s+)?404\b|\bkhong\s+tim\s+thay\b(?:\s+(?:trang|bai\s+viet|noi\s+dung|tin))?"
    r"|\b(?:trang|bai\s+viet|noi\s+dung|tin(?:\s+bai)?|duong\s+dan)(?:\s+ban\s+yeu\s+cau)?"
    r"\s+(?:nay\s+)?(?:khong\s+ton\s+tai|da\s+bi\s+xoa|da\s+bi\s+go|khong\s+con)"
    r"(?:\s+hoac\s+da\s+bi\s+(?:xoa|go|di\s+chuyen))?"
    r"|\b(?:page\s+)?not\s+found\b|\berror\b|\bloi\b"
)
_WORD = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]+")


def _doc(html: str | bytes) -> etree._Element | None:
    try:
        return lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def not_found_notice(html: str | bytes) -> str | None:
    """The page's title or first heading when it is a not-found notice, else None."""
    doc = _doc(html)
    if doc is None:
        return None
    candidates = [doc.findtext(".//title") or ""]
    for tag in ("h1", "h2"):
        heading = doc.find(f".//{tag}")
        if heading is not None:
            candidates.append(heading.text_content())
            break
    for text in candidates:
        words = _words(text)
        folded = " ".join(words)
        if not words:
            continue
        covered = sum(len(m.group(0).split()) for m in _NOTICE.finditer(folded))
        if covered and covered / len(words) >= NOTICE_SHARE:
            return " ".join(text.split())
    return None


def page_signature(html: str | bytes) -> frozenset[int]:
    """The page's visible words as hashed trigrams (scripts and styles left out)."""
    doc = _doc(html)
    if doc is None:
        return frozenset()
    for bulk in doc.xpath("//script|//style|//noscript"):
        bulk.drop_tree()
    # Digits left out: a visitor counter or a date differs between two views.
    words = _LETTERS.findall(fold(doc.text_content()))
    return frozenset(zlib.crc32(" ".join(words[i:i + 3]).encode())
                     for i in range(len(words) - 2))


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two signatures (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
