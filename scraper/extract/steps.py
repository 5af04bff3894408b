"""The extraction pipeline: pure steps ``Page -> Page`` in one ordered tuple.

:func:`scraper.extract.extract_article` (and ``extract_page_state``, which the
archiver process calls) runs :data:`STEPS` in order; the crawl's
``ExtractPipeline`` runs the same functions through :data:`STAGES`, so what the
crawl stores is exactly what the tests check. A step may raise
:class:`~scraper.extract.article.NotAnArticle`; nothing else escapes.

The steps, in order, and where each lives:

==================== ============================== =================================
step                 module                         does
==================== ============================== =================================
decode               :mod:`scraper.extract.decode`   bytes → text (charset, BOM, NFC)
parse                :mod:`scraper.extract.parse`    text → tree; legacy font encodings
read_metadata        :mod:`scraper.extract.metadata` meta, JSON-LD, OpenGraph, ``<time>``
select_profile       :mod:`scraper.extract.content`  layout profile, or reject a listing
strip_widgets        :mod:`scraper.extract.widgets`  drop widgets by rule and by label
find_content         :mod:`scraper.extract.content`  container, title, dateline, blocks
collapse_duplicates  :mod:`scraper.extract.duplicates` keep the first copy of the body
extract_fields       :mod:`scraper.extract.fields`   title, date, author, images, body
normalise            :mod:`scraper.extract.fields`   clean every text field
validate             :mod:`scraper.extract.validate` article or ``NotAnArticle``; warnings
==================== ============================== =================================

The state passed between steps is :class:`scraper.extract.page.Page`.
"""

from __future__ import annotations

from scraper.extract.content import find_content, select_profile
from scraper.extract.decode import decode
from scraper.extract.duplicates import collapse_duplicates
from scraper.extract.fields import extract_fields, normalise
from scraper.extract.metadata import read_metadata
from scraper.extract.page import Page, Step
from scraper.extract.parse import parse
from scraper.extract.validate import validate
from scraper.extract.widgets import strip_widgets

#: Every step, in order. ``extract_article`` runs them all; the crawl runs
#: them as the slices of :data:`STAGES`, in order.
STEPS: tuple[Step, ...] = (
    decode, parse, read_metadata, select_profile,  # parse
    strip_widgets,  # strip widgets
    find_content, collapse_duplicates,  # collapse duplicated bodies
    extract_fields, normalise,  # normalise text
    validate,  # validate
)

#: The crawl's stages, in order, each a slice of STEPS (the stage names count
#: and select what ``scraper.pipelines.StagePipeline`` runs).
STAGES: dict[str, tuple[Step, ...]] = {
    "parse": STEPS[0:4],
    "strip_widgets": STEPS[4:5],
    "collapse_duplicates": STEPS[5:7],
    "normalise": STEPS[7:9],
    "validate": STEPS[9:10],
}


def run(page: Page, steps: tuple[Step, ...] = STEPS) -> Page:
    """``page`` through ``steps``, in order."""
    for step in steps:
        page = step(page)
    return page
