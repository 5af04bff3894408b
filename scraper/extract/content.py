"""Where the article is on the page: the layout profile that matches (or the
generic finder), its container, title and dateline elements, and the
container's text blocks. A page no profile vouches for and shaped like a list
of headlines is rejected here."""

from __future__ import annotations

from lxml.html import HtmlElement

from scraper.extract import generic, shape
from scraper.extract.article import NotAnArticle
from scraper.extract.blocks import segment
from scraper.extract.metadata import read_breadcrumb
from scraper.extract.page import Page
from scraper.extract.profiles import PROFILES, detect_match
from scraper.extract.text import clean_line
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
        page.title_el = generic.find_title(doc, page.meta.declared_title, page.root)
        page.date_el = generic.find_dateline(doc, page.title_el)
    if page.root is None:
        raise NotAnArticle("no-content", "no article text found")
    page.blocks = segment(page.root)
    if page.profile is None:
        lead = generic.find_lead(page.root, page.title_el, page.date_el)
        if lead is not None:
            page.blocks = segment(lead) + page.blocks
    return page
