"""Full-text search over the archive, Vietnamese-aware.

::

    from archive.search import search
    for hit in search(archive, '"nông thôn mới" xã*', since="2022", limit=10):
        print(hit.title, hit.snippet)

Matching is diacritic-insensitive (the query and the index are both folded,
see :mod:`archive.textfold`), so ``nong thon moi``, ``NÔNG THÔN MỚI`` and a
query typed in decomposed Unicode all find ``Nông thôn mới``.

Ranking, with ``order="relevance"``:

1. articles that also match the query **with the diacritics as typed**
   (only when the query has diacritics) come first;
2. then BM25 over the folded columns, a title match weighing
   :data:`TITLE_WEIGHT` times a body match, an author match :data:`AUTHOR_WEIGHT`;
3. ties: newer first.

Snippets are cut from the stored body (diacritics intact) around the
densest run of matching words, matches wrapped in ``markers``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from archive.errors import FilterError, SearchError
from archive.filters import ArticleFilter
from archive.query import CompiledQuery, HighlightTerm, compile_query
from archive.store import Archive
from archive.textfold import fold, words

#: BM25 weight of a title match relative to a body match.
TITLE_WEIGHT = 10.0
#: BM25 weight of an author match relative to a body match.
AUTHOR_WEIGHT = 3.0
#: Largest page of results one call returns.
MAX_LIMIT = 1000
ORDERS = ("relevance", "date")

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SearchHit:
    """One search result."""

    #: 1-based position in the whole result list (offset included).
    rank: int
    id: int
    canonical_url: str
    title: str
    #: Publication time, ISO 8601 with offset, or None.
    published: str | None
    portal_id: str
    author: str | None
    category: str | None
    #: A short piece of the body with matching words wrapped in the markers.
    snippet: str
    #: The title with matching words wrapped in the markers.
    title_highlighted: str
    #: BM25 relevance, higher is better (FTS5's rank, negated).
    score: float
    #: True when the article matches the diacritics exactly as typed.
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- snippets
def _matching(text: str, terms: tuple[HighlightTerm, ...]) -> list[tuple[int, int, int]]:
    """``(start, end, term index)`` of every word of ``text`` a term covers.

    A phrase term covers its words only where they appear in sequence.
    """
    tokens = list(words(text))
    folded = [fold(m.group()) for m in tokens]
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        step = 1
        for k, term in enumerate(terms):
            n = term.match_at(folded, i)
            if n:
                found += [(m.start(), m.end(), k) for m in tokens[i : i + n]]
                step = n
                break
        i += step
    return found


def _mark(text: str, spans: list[tuple[int, int, int]], markers: tuple[str, str],
          lo: int = 0, hi: int | None = None) -> str:
    hi = len(text) if hi is None else hi
    out: list[str] = []
    pos = lo
    for start, end, _ in spans:
        if start < lo or end > hi:
            continue
        out += [text[pos:start], markers[0], text[start:end], markers[1]]
        pos = end
    out.append(text[pos:hi])
    return _SPACES.sub(" ", "".join(out)).strip()


def highlight(text: str, terms: tuple[HighlightTerm, ...],
              markers: tuple[str, str] = ("[", "]")) -> str:
    """The whole ``text`` with matching words wrapped in ``markers``."""
    return _mark(text, _matching(text, terms), markers)


def make_snippet(text: str, terms: tuple[HighlightTerm, ...], *, size: int = 30,
                 markers: tuple[str, str] = ("[", "]"), ellipsis: str = "…") -> str:
    """About ``size`` words of ``text`` around its best run of matches, highlighted.

    The window chosen holds the most distinct query words, then the most
    matches; with no match at all it is the beginning of the text.
    """
    tokens = list(words(text))
    if not tokens:
        return _SPACES.sub(" ", text).strip()[:200]
    spans = _matching(text, terms)
    span_at = {s[0]: s for s in spans}
    hit_idx = [k for k, t in enumerate(tokens) if t.start() in span_at]
    best = 0
    if hit_idx:
        best_key = (-1, -1)
        for h in hit_idx:
            s = max(0, h - size // 5)
            inside = [span_at[tokens[k].start()][2] for k in hit_idx if s <= k < s + size]
            key = (len(set(inside)), len(inside))
            if key > best_key:
                best, best_key = s, key
    end = min(len(tokens), best + size)
    lo = tokens[best].start() if best > 0 else 0
    hi = tokens[end - 1].end() if end < len(tokens) else len(text)
    piece = _mark(text, spans, markers, lo, hi)
    return (ellipsis if best > 0 else "") + piece + (ellipsis if end < len(tokens) else "")


# ------------------------------------------------------------------ search
def _check_page(limit: int, offset: int, order: str) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise FilterError(f"offset must be 0 or more, not {offset}")
    if order not in ORDERS:
        raise FilterError(f"unknown order {order!r} (use {' or '.join(ORDERS)})")


def check_portal(archive: Archive, portal: str | None) -> None:
    """Raise :class:`FilterError` if ``portal`` is given and not in the archive."""
    if portal is None:
        return
    known = archive.portal_ids()
    if portal not in known:
        raise FilterError(
            f"no portal {portal!r} in {archive.path}; archived: {', '.join(known) or 'none'}"
        )


def search(
    archive: Archive,
    query: str | CompiledQuery,
    *,
    portal: str | None = None,
    since: str | None = None,
    until: str | None = None,
    author: str | None = None,
    category: str | None = None,
    limit: int = 20,
    offset: int = 0,
    order: str = "relevance",
    markers: tuple[str, str] = ("[", "]"),
    snippet_words: int = 30,
) -> list[SearchHit]:
    """Search the archive; see the module docstring for matching and ranking.

    ``order`` is ``"relevance"`` or ``"date"`` (newest first). ``since`` and
    ``until`` take ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (both inclusive).
    Raises :class:`SearchError` for a query with nothing to search for,
    :class:`FilterError` for a bad filter, :class:`ArchiveError` for an empty
    archive. Never lets an SQLite error through.
    """
    _check_page(limit, offset, order)
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query)
    filters = ArticleFilter(portal=portal, since=since, until=until, author=author,
                            category=category)
    where, where_params = filters.where("a")
    archive.require_articles()
    check_portal(archive, portal)

    # Two steps: rank ids only (no article text is carried through the sort),
    # then read the page of articles. The ranking step touches `articles`
    # only when a filter needs its columns.
    # Filters select a set of ids through the articles' indexes (portal and
    # date, folded author, folded category); the FTS scan is checked against it.
    # (`+f.rowid`: keep SQLite from handing the IN list to FTS5 as one
    # lookup per id, which is orders of magnitude slower for large sets.)
    filter_sql = (f"+f.rowid IN (SELECT a.id FROM articles a WHERE {where})"
                  if where != "1" else "1")
    if order == "relevance":
        exact_sql = ("f.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
                     if compiled.exact is not None else "0")
        ranked = f"""
            SELECT f.rowid AS id,
                   bm25(articles_fts, 0, 0, 0, {TITLE_WEIGHT}, 1.0, {AUTHOR_WEIGHT}) AS score,
                   ({exact_sql}) AS exact
            FROM articles_fts f
            WHERE articles_fts MATCH ? AND {filter_sql}
            ORDER BY exact DESC, score, f.rowid DESC
            LIMIT ? OFFSET ?"""
        params: list[Any] = [compiled.exact] if compiled.exact is not None else []
        params += [compiled.match, *where_params, limit, offset]
        outer_order = "r.exact DESC, r.score, r.id DESC"
    else:
        # Newest first straight from the published_utc index (NULLs sort
        # last in DESC order), checking each article against the match set.
        ranked = f"""
            SELECT a.id AS id, 0.0 AS score, 0 AS exact FROM articles a
            WHERE a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)
              AND {where}
            ORDER BY a.published_utc DESC, a.id DESC
            LIMIT ? OFFSET ?"""
        params = [compiled.match, *where_params, limit, offset]
        outer_order = "a.published_utc DESC, a.id DESC"
    sql = f"""
        WITH r AS MATERIALIZED ({ranked})
        SELECT a.id, a.canonical_url, a.title, a.published, a.portal_id, a.author,
               a.category, a.body, r.score, r.exact
        FROM r JOIN articles a ON a.id = r.id
        ORDER BY {outer_order}"""
    try:
        rows = archive.conn.execute(sql, params).fetchall()
    except sqlite3.Error as exc:  # a safe expression should never get here
        raise SearchError(f"search failed for {compiled.text[:60]!r}: {exc}") from exc
    if order == "date" and compiled.exact is not None:
        rows = _mark_exact(archive, compiled.exact, rows)

    terms = compiled.highlight
    return [
        SearchHit(
            rank=offset + k + 1,
            id=row[0],
            canonical_url=row[1],
            title=row[2],
            published=row[3],
            portal_id=row[4],
            author=row[5],
            category=row[6],
            snippet=make_snippet(row[7], terms, size=snippet_words, markers=markers),
            title_highlighted=highlight(row[2], terms, markers),
            score=-float(row[8]),
            exact=bool(row[9]),
        )
        for k, row in enumerate(rows)
    ]


def _mark_exact(archive: Archive, exact: str, rows: list[Any]) -> list[Any]:
    """Set the ``exact`` flag of a page of date-ordered rows."""
    if not rows:
        return rows
    marks = ",".join("?" * len(rows))
    hits = {r[0] for r in archive.conn.execute(
        f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({marks})",
        [exact, *(r[0] for r in rows)])}
    return [(*r[:9], r[0] in hits) for r in rows]


def count_matches(archive: Archive, query: str, **filters: Any) -> int:
    """How many articles match ``query`` under ``filters`` (ArticleFilter fields)."""
    return archive.count_articles(ArticleFilter(query=query, **filters))
