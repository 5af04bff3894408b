"""Facets and the per-month chart of a set of articles, at archive scale.

::

    from archive.facets import facet_counts
    fc = facet_counts(archive, ArticleFilter(portal="trieuson", since="2021"))
    fc.total, fc.portal, fc.year, fc.author, fc.category, fc.chart

What the web UI's search page shows next to the results: how many articles
a search selects, counts per portal, year, author and category, and the
articles per (portal, month). The answer never iterates the articles in
Python, and its cost does not grow with the archive:

* **No text query** (the unqueried page; portal, date, author, category
  filters): from ``facet_counts`` (migration ``0008_facet_counts``), counts
  per (portal, month, author, category) kept by triggers — **exact**. Its
  rows are per month of Vietnam time, so a date filter on whole months
  (``2021``, ``2021-03``) is answered from it alone; a date filter that cuts
  a month (``2021-03-15``) takes the whole months inside from it and counts
  the one or two cut months from the ``articles_facets`` covering index
  (at most two months of articles) — still exact.
* **A text query**: the matches are read from the full-text index newest
  first (by publication), at most :data:`MATCH_CAP` of them, and counted by SQL
  ``GROUP BY``. When the query matches fewer, everything is exact; when it
  matches more, :attr:`FacetCounts.complete` is False: the total is a lower
  bound ("more than 10,000") and the facets and chart describe the
  :data:`MATCH_CAP` most recently published matches. Callers must say so.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from archive.filters import ArticleFilter, date_bounds
from archive.search import newest_matches
from archive.store import FACET_AUTHOR, FACET_CATEGORY, Archive
from scraper.extract.article import VIETNAM_TZ

#: Values shown per facet (portal, author, category); years are all shown.
FACET_SIZE = 8
#: A text query's facets read at most this many matches (the newest published).
MATCH_CAP = 10_000
#: SQL: the Vietnam-time month of ``a.published_utc`` ('' undated), as in facet_counts.
_MONTH_SQL = "coalesce(strftime('%Y-%m', a.published_utc, '+7 hours'), '')"


@dataclass
class FacetCounts:
    """Counts over the articles a filter (and query) selects."""

    #: Articles selected; a lower bound when not :attr:`complete`.
    total: int = 0
    #: False when a text query matched more than :attr:`scanned` articles and
    #: only the newest :attr:`scanned` were counted (total, facets and chart).
    complete: bool = True
    #: Matches of the text query read (None: no text query).
    scanned: int | None = None
    portal: list[tuple[str, int]] = field(default_factory=list)
    #: Every year, newest first.
    year: list[tuple[str, int]] = field(default_factory=list)
    author: list[tuple[str, int]] = field(default_factory=list)
    category: list[tuple[str, int]] = field(default_factory=list)
    #: ``(portal_id, "YYYY-MM", articles)`` ordered by month (Vietnam time).
    chart: list[tuple[str, str, int]] = field(default_factory=list)

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        return {"portal": self.portal, "year": self.year, "author": self.author,
                "category": self.category}


class _Tally:
    """Counts being merged from several sources."""

    def __init__(self) -> None:
        self.months: Counter[tuple[str, str]] = Counter()  # (portal, month or '') → n
        self.author: Counter[str] = Counter()
        self.category: Counter[str] = Counter()

    def result(self, size: int, **extra: Any) -> FacetCounts:
        portal: Counter[str] = Counter()
        year: Counter[str] = Counter()
        chart = []
        for (p, month), n in self.months.items():
            portal[p] += n
            if month:
                year[month[:4]] += n
                chart.append((p, month, n))
        chart.sort(key=lambda r: (r[1], r[0]))
        return FacetCounts(
            total=sum(portal.values()),
            portal=_top(portal, size),
            year=sorted(year.items(), reverse=True),
            author=_top(self.author, size),
            category=_top(self.category, size),
            chart=chart, **extra)


def _top(counter: Counter[str], size: int) -> list[tuple[str, int]]:
    return sorted(((k, n) for k, n in counter.items() if k and n),
                  key=lambda kv: (-kv[1], kv[0]))[:size]


# ------------------------------------------------------------------ months
def _local_month(utc: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(VIETNAM_TZ)
    return moment.year, moment.month


def _month_start(year: int, month: int) -> str | None:
    """UTC start of a Vietnam-time month (None past year 9999: no bound)."""
    if month > 12:
        year, month = year + 1, 1
    if month < 1:
        year, month = year - 1, 12
    if not 1 <= year <= 9999:
        return None
    return date_bounds(f"{year:04d}-{month:02d}")[0]


def _label(year: int, month: int) -> str:
    if month > 12:
        year, month = year + 1, 1
    if month < 1:
        year, month = year - 1, 12
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class _Span:
    """A date filter as whole months (for facet_counts) plus cut months (for articles)."""

    #: Whole months inside the filter: first and last ``YYYY-MM`` (None: open end).
    first: str | None
    last: str | None
    #: False when no whole month lies inside.
    any_whole: bool
    #: UTC intervals ``[start, end)`` of the cut months (None: open end).
    cuts: tuple[tuple[str | None, str | None], ...]


def _span(since_utc: str | None, until_utc: str | None) -> _Span:
    first = last = None
    cuts: list[tuple[str | None, str | None]] = []
    y0 = m0 = y1 = m1 = 0
    cut_until = False
    if since_utc:
        y0, m0 = _local_month(since_utc)
        whole = since_utc == _month_start(y0, m0)
        first = _label(y0, m0 + (0 if whole else 1))
    if until_utc:  # exclusive
        y1, m1 = _local_month(until_utc)
        last = _label(y1, m1 - 1)
        cut_until = until_utc != _month_start(y1, m1)
    if since_utc and until_utc and (y0, m0) == (y1, m1):
        # Both ends inside one month: that piece only.
        return _Span(None, None, False, ((since_utc, until_utc),))
    if since_utc and first != _label(y0, m0):
        cuts.append((since_utc, _month_start(y0, m0 + 1)))
    if until_utc and cut_until:
        cuts.append((_month_start(y1, m1), until_utc))
    any_whole = not (first and last and first > last)
    return _Span(first, last, any_whole, tuple(cuts))


# ------------------------------------------------------------------ sources
def _from_summary(archive: Archive, filters: ArticleFilter, span: _Span | None,
                  tally: _Tally) -> None:
    """Add what facet_counts says about the whole months ``span`` covers."""
    where, params = replace(filters, since=None, until=None, query=None).where(
        "s", words_by="function")
    if span is not None:
        where += " AND s.month != ''"
        if span.first:
            where += " AND s.month >= ?"
            params.append(span.first)
        if span.last:
            where += " AND s.month <= ?"
            params.append(span.last)
    q = archive.conn.execute
    base = (FACET_AUTHOR if filters.author else 0) | (FACET_CATEGORY if filters.category else 0)
    if base == FACET_AUTHOR | FACET_CATEGORY:
        # Both LIKE filters need the finest level for every count: scan it
        # once, and sum its (few) matching rows here.
        _add_rows(q(f"SELECT s.portal_id, s.month, s.author, s.category, s.n "
                    f"FROM facet_counts s WHERE s.level = ? AND {where}",
                    [base, *params]), tally)
        return
    for p, month, n in q(f"SELECT s.portal_id, s.month, sum(s.n) FROM facet_counts s "
                         f"WHERE s.level = ? AND {where} GROUP BY s.portal_id, s.month",
                         [base, *params]):
        tally.months[(p, month)] += n
    for column, bit, counter in (("author", FACET_AUTHOR, tally.author),
                                 ("category", FACET_CATEGORY, tally.category)):
        for value, n in q(f"SELECT s.{column}, sum(s.n) FROM facet_counts s WHERE s.level = ? "
                          f"AND {where} AND s.{column} != '' GROUP BY s.{column}",
                          [base | bit, *params]):
            counter[value] += n


def _add_rows(rows: Any, tally: _Tally) -> int:
    """Add ``(portal, month, author, category, n)`` rows; return the articles added."""
    total = 0
    for p, month, author, category, n in rows:
        tally.months[(p, month)] += n
        if author:
            tally.author[author] += n
        if category:
            tally.category[category] += n
        total += n
    return total


def _from_articles(archive: Archive, filters: ArticleFilter, start: str | None,
                   end: str | None, tally: _Tally) -> None:
    """Add the articles published in ``[start, end)`` (a cut month), from the covering index."""
    where, params = replace(filters, since=None, until=None, query=None).where(
        "a", words_by="function")
    if start:
        where += " AND a.published_utc >= ?"
        params.append(start)
    if end:
        where += " AND a.published_utc < ?"
        params.append(end)
    if not filters.portal:
        # Portal by portal: each a range of the (portal_id, published_utc, …)
        # covering index, never the article rows.
        where += " AND a.portal_id IN (SELECT id FROM portals)"
    _add_rows(archive.conn.execute(
        f"SELECT a.portal_id, {_MONTH_SQL}, a.author, a.category, count(*) "
        f"FROM articles a INDEXED BY articles_facets WHERE {where} GROUP BY 1, 2, 3, 4",
        params), tally)


def _from_matches(archive: Archive, filters: ArticleFilter, cap: int,
                  tally: _Tally) -> tuple[int, bool]:
    """Add the newest ``cap`` full-text matches of ``filters.query`` that pass the filters.

    The full-text index is kept newest published first
    (:func:`archive.search.newest_matches`): the scan stops after ``cap + 1``
    matches, with the filters answered by the index (author and category
    words, date range) or checked per match (portal).
    Returns (articles counted, whether that was every match).
    """
    ids = newest_matches(archive, filters.query or "", filters, cap + 1)
    complete = len(ids) <= cap
    ids = ids[:cap]
    _add_rows(archive.conn.execute(
        f"SELECT a.portal_id, {_MONTH_SQL}, a.author, a.category, count(*) "
        f"FROM articles a INDEXED BY articles_id_facets "
        f"WHERE a.id IN (SELECT value FROM json_each(?)) GROUP BY 1, 2, 3, 4",
        [json.dumps(ids)]), tally)
    return len(ids), complete


def facet_counts(archive: Archive, filters: ArticleFilter | None = None, *,
                 size: int = FACET_SIZE, cap: int = MATCH_CAP) -> FacetCounts:
    """Total, facets (portal, year, author, category) and chart of what ``filters`` selects.

    Exact without a text query; with one, exact when it matches at most
    ``cap`` articles, else over the newest ``cap`` matches (``complete`` is
    False). Raises :class:`~archive.errors.FilterError` /
    :class:`~archive.errors.SearchError` for bad filters or queries.
    """
    filters = filters or ArticleFilter()
    filters.where("a")  # validates dates and the query (one-line errors)
    tally = _Tally()
    if filters.query is not None:
        scanned, complete = _from_matches(archive, filters, cap, tally)
        return tally.result(size, complete=complete, scanned=scanned)
    since = date_bounds(filters.since, option="--since date")[0] if filters.since else None
    until = date_bounds(filters.until, option="--until date")[1] if filters.until else None
    if since is None and until is None:
        _from_summary(archive, filters, None, tally)
    else:
        span = _span(since, until)
        if span.any_whole:
            _from_summary(archive, filters, span, tally)
        for start, end in span.cuts:
            _from_articles(archive, filters, start, end, tally)
    return tally.result(size)


def page_window(counts: FacetCounts, offset: int, limit: int
                ) -> tuple[str | None, str | None, int] | None:
    """Where page ``[offset, offset + limit)`` of a newest-first listing lies, from its counts.

    ``counts`` must be complete (a listing without a text query). Returns
    ``(start, end, skip)``: the rows lie in the months ``[start, end)`` (UTC,
    None: open end) and the page starts ``skip`` rows into them (newest
    first). None when the page reaches the undated articles (listed last).
    A listing whose filters no index can seek (author, category) then reads
    only the index entries of those months instead of walking every article.
    """
    if not counts.complete:
        return None
    per_month: Counter[str] = Counter()
    for _, month, n in counts.chart:
        per_month[month] += n
    months = sorted(per_month.items(), reverse=True)
    if offset + limit > sum(per_month.values()):
        if counts.total > sum(per_month.values()):
            return None  # undated articles on this page
        limit = max(0, sum(per_month.values()) - offset)
    before = 0
    first = last = None
    skip = 0
    for month, n in months:
        if first is None and before + n > offset:
            first, skip = month, offset - before
        before += n
        if first is not None and before >= offset + limit:
            last = month
            break
    if first is None or last is None:
        return None
    y0, m0 = (int(x) for x in last.split("-"))
    y1, m1 = (int(x) for x in first.split("-"))
    return _month_start(y0, m0), _month_start(y1, m1 + 1), skip
