"""Where the article is on the page: the layout profile that matches (or the
generic finder), its container, title and dateline elements, and the
container's text blocks. A page no profile vouches for and shaped like a list
of headlines is rejected here."""

from __future__ import annotations

import re
from html import escape

from lxml.html import HtmlElement

from scraper.extract import generic, shape
from scraper.extract.article import NotAnArticle
from scraper.extract.blocks import Block, segment
from scraper.extract.metadata import read_breadcrumb
from scraper.extract.page import Page
from scraper.extract.profiles import PROFILES, detect_match
from scraper.extract.text import clean_line, fold
from scraper.extract.xpaths import compiled


def select_profile(page: Page) -> Page:
    """The page's layout profile (forced, or the first whose ``detect`` matches)
    and, with one, its title, dateline and container; the breadcrumb."""
    doc = page.need_doc()
    detected: HtmlElement | None = None  # what the profile's ``detect`` found
    if page.forced_profile == "generic":
        page.profile = None
    elif page.forced_profile:
        if page.forced_profile not in PROFILES:
            raise ValueError(f"unknown extraction profile {page.forced_profile!r}")
        page.profile = PROFILES[page.forced_profile]
    else:
        match = detect_match(doc, page.html)
        page.profile, detected = match if match else (None, None)
    if page.profile is None and shape.looks_like_listing(doc, page.url):
        # No profile vouches for the page and it is shaped like a list of headlines.
        raise NotAnArticle("listing", "the page lists articles")
    if page.profile is not None and page.profile.category:
        page.meta.breadcrumb = [
            clean_line(a.text_content()) for a in compiled(page.profile.category)(doc)
        ]
    else:
        page.meta.breadcrumb = read_breadcrumb(doc, page.html)
    if page.profile is not None:
        page.title_el = detected if detected is not None \
            and page.profile.title == page.profile.detect \
            else page.profile.first(doc, page.profile.title)
        page.date_el = page.profile.first(doc, page.profile.date)
        page.root = page.profile.first(doc, page.profile.root)
    return page


def find_content(page: Page) -> Page:
    """Without a profile, the generic finder's container, title and dateline;
    then the container's text blocks, preceded (without a profile) by a lead
    paragraph kept beside the container."""
    doc = page.need_doc()
    if page.profile is None:
        page.root = generic.find_root(doc)
        page.title_el = generic.find_title(doc, page.meta.declared_title, page.root,
                                           tuple(page.meta.site_names))
        page.date_el = generic.find_dateline(doc, page.title_el)
    if page.root is None:
        raise NotAnArticle("no-content", "no article text found")
    page.blocks = segment(page.root)
    if page.profile is None:
        for lead in reversed(generic.find_leads(page.root, page.title_el, page.date_el)):
            page.blocks = segment(lead) + page.blocks
    if _lists_headlines(page):
        raise NotAnArticle("listing", "a section's page listing headlines")
    return page


def _lists_headlines(page: Page) -> bool:
    """A listing's last page with one or two items looks like a short article:
    its heading is a section's name (the text of a link to another page: the
    menu's, the breadcrumb's) and its text opens with a headline linking
    elsewhere. An article's heading is its own title and its text opens with
    prose."""
    if page.title_el is None:
        return False
    opening = [b for b in page.blocks if not b.blank and b.kind != "images"][:2]
    if not any(_is_headline(b) for b in opening):
        return False
    title = clean_line(page.title_el.text_content())
    if not title:
        return False
    if fold(title) in {fold(c) for c in page.meta.breadcrumb[1:]}:
        return True
    return _links_elsewhere(page.html, title)


def _is_headline(block: Block) -> bool:
    el = block.element
    if el is None or len(block.clean.split()) < 4:
        return False
    links = [el] if el.tag == "a" else list(el.iterancestors("a")) or list(el.iter("a"))
    linked = sum(len(clean_line(a.text_content())) for a in links if a.get("href"))
    return bool(links) and linked >= 0.7 * len(block.clean)  # (a date may follow)


_HREF = re.compile(r"""<a\b[^<>]*?\bhref\s*=\s*["']?([^"'\s>]+)[^<>]*>\s*$""", re.I)


def _links_elsewhere(html: str, text: str) -> bool:
    """Whether the page's markup has a link whose whole text is ``text`` (a
    section's name in the menu, possibly this very section)."""
    for needle in {text, escape(text, quote=False)}:
        i = html.find(needle)
        while i != -1:
            after = html[i + len(needle):i + len(needle) + 40].lstrip()
            m = _HREF.search(html, max(0, i - 400), i) if after.lower().startswith("</a") else None
            if m and not m.group(1).startswith(("#", "javascript")):
                return True
            i = html.find(needle, i + 1)
    return False
