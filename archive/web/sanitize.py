"""Archived HTML made safe to show: an allow-list sanitiser (nh3, i.e. Rust's ammonia).

Crawled pages are untrusted. Before any archived ``body_html`` reaches a
browser it goes through :func:`sanitize_html`, which keeps only the text
formatting tags an article needs, only the attributes listed below, only
``http``/``https``/``mailto`` URLs (relative ones resolved against the
article's URL), and drops ``<script>``/``<style>`` with their content. No
``on*`` handler, ``style`` attribute, ``javascript:`` URL, ``<iframe>``,
``<object>``, ``<form>`` or ``<svg>`` survives.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3

#: Tags kept (anything else is removed, its text kept).
TAGS = frozenset({
    "p", "br", "hr", "div", "span", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "small", "blockquote", "q", "cite", "pre", "code", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot",
    "tr", "th", "td", "figure", "figcaption", "img", "a",
})
#: Tags removed together with their content.
DROP_WITH_CONTENT = frozenset({"script", "style", "noscript", "template", "textarea", "title"})
#: Attributes kept, per tag.
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = {("a", "href"), ("img", "src")}


def _resolver(base_url: str | None) -> Callable[[str, str, str], str | None]:
    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if (tag, attr) not in _URL_ATTRIBUTES:
            return value
        url = urljoin(base_url, value.strip()) if base_url else value.strip()
        scheme = urlsplit(url).scheme.lower()
        if scheme not in URL_SCHEMES:
            return None  # relative without a base, javascript:, data:, vbscript: …
        return url

    return attribute_filter


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """``html`` with everything outside the allow-list removed; URLs made absolute."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=_resolver(base_url),
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (for links and image sources)."""
    if not url:
        return None
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


#: Containers removed when stripping images has left them without text.
_EMPTY_CONTAINERS = ("figure", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "div",
                     "p", "span", "em", "i", "strong", "b")


def _norm(text: str) -> str:
    return " ".join(text.split())


def strip_images(clean_html: str, captions: Iterable[str]) -> str:
    """Sanitised body HTML without its images and the text of their captions.

    The page lists the article's images (with captions) once, under the body.
    Removed: every ``<img>`` and ``<figcaption>``, every element whose whole
    text is one of ``captions``, then the containers left empty (an image
    table, a ``<figure>``). The input must come from :func:`sanitize_html`.
    """
    if not clean_html.strip():
        return clean_html
    wanted = {_norm(c) for c in captions if c and c.strip()}
    root = lxml.html.fragment_fromstring(clean_html, create_parent="div")
    for el in list(root.iter("img", "figcaption")):
        el.drop_tree()
    if wanted:
        for el in list(root.iter()):
            if el is not root and el.getparent() is not None \
                    and _norm(el.text_content()) in wanted:
                el.drop_tree()
    changed = True
    while changed:
        changed = False
        for el in list(root.iter(*_EMPTY_CONTAINERS)):
            if el is not root and not _norm(el.text_content()) and len(el) == 0:
                el.drop_tree()
                changed = True
    return html.escape(root.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root)
