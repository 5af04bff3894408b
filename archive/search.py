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

import functools
import re
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from archive.errors import FilterError, SearchError
from archive.filters import ArticleFilter, count_articles
from archive.query import (
    CompiledQuery,
    HighlightTerm,
    compile_query,
    expand_prefixes,
)
from archive.rank import Stats, collection_stats, score_block
from archive.store import Archive
from archive.store.fulltext import (
    FOLDED_COLUMNS,
    FTS_COLUMNS,
    ID_MASK,
    SEARCH_EPOCH_MINUTES,
    fts_id,
    key_id,
    search_key_bounds,
)
from archive.textfold import fold, words

#: BM25 weight of a title match relative to a body match.
TITLE_WEIGHT = 10.0
#: BM25 weight of an author match relative to a body match.
AUTHOR_WEIGHT = 3.0
#: BM25 weight of a match in the text of an attached document.
ATTACHMENT_WEIGHT = 0.5
#: Relevance ranks the matches in blocks of this many, in index order (newest
#: published first): a query matching more is answered from its newest block,
#: and later pages go on to the next blocks. None (``rank_window=None``) ranks
#: every match at once, at a cost that grows with the number of matches.
RANK_WINDOW = 300
#: Largest page of results one call returns.
MAX_LIMIT = 1000
ORDERS = ("relevance", "date")
#: BM25 weight per ``articles_fts`` column; the exact columns and the folded
#: category only match, they don't score.
_WEIGHTS = {"title_folded": TITLE_WEIGHT, "body_folded": 1.0, "author_folded": AUTHOR_WEIGHT,
            "attachments_folded": ATTACHMENT_WEIGHT}
#: The first key of an undated article (dates before 1970 come after these).
UNDATED_KEY = SEARCH_EPOCH_MINUTES << 32
#: A ``prefix*`` standing for more indexed words than this is left to FTS5.
MAX_EXPANSION = 64

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
    #: Where the query's words are: ``title``, ``body``, ``author``, and
    #: ``attachment:<name>`` for each attached document whose text has them.
    matched_in: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- snippets
@functools.lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    """:func:`fold` of one word, cached (an archive's vocabulary is small)."""
    return fold(word)


def _matching(text: str, terms: tuple[HighlightTerm, ...]) -> list[tuple[int, int, int]]:
    """``(start, end, term index)`` of every word of ``text`` a term covers.

    A phrase term covers its words only where they appear in sequence.
    """
    tokens = list(words(text))
    folded = [_fold_word(m.group()) for m in tokens]
    # a word can start a match only if it is a term's first word (or extends a
    # one-word prefix): skip the others without trying every term
    firsts = {t.words[0] for t in terms}
    prefixes = tuple(t.words[0] for t in terms if t.prefix and len(t.words) == 1)
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        step = 1
        word = folded[i]
        if word not in firsts and not (prefixes and word.startswith(prefixes)):
            i += 1
            continue
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
    rank_window: int | None = RANK_WINDOW,
) -> list[SearchHit]:
    """Search the archive; see the module docstring for matching and ranking.

    ``order`` is ``"relevance"`` or ``"date"`` (newest first). ``since`` and
    ``until`` take ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (both inclusive).
    ``rank_window``: relevance ranks blocks of this many matches, newest
    block first (see :data:`RANK_WINDOW`); None ranks every match at once,
    at a cost that grows with the number of matches.
    Raises :class:`SearchError` for a query with nothing to search for,
    :class:`FilterError` for a bad filter, :class:`ArchiveError` for an empty
    archive. Never lets an SQLite error through.
    """
    _check_page(limit, offset, order)
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query)
    filters = ArticleFilter(portal=portal, since=since, until=until, author=author,
                            category=category)
    filters.where("a")  # validates the filters
    archive.require_articles()
    check_portal(archive, portal)

    if rank_window is not None and rank_window < 1:
        raise FilterError(f"rank window must be 1 or more, not {rank_window}")
    try:
        rows = _ranked_rows(archive, compiled, filters, order=order, limit=limit,
                            offset=offset, window=rank_window)
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
            matched_in=_matched_in(archive, row, terms),
        )
        for k, row in enumerate(rows)
    ]


def _matched_in(archive: Archive, row: Any, terms: tuple[HighlightTerm, ...]) -> tuple[str, ...]:
    """The fields (and attached documents, by name) of a result the query's words are in."""
    found = [name for name, text in (("title", row[2]), ("body", row[7]), ("author", row[5]))
             if text and _matching(text, terms)]
    if archive.conn.execute("SELECT attachments_folded IS NOT NULL FROM articles WHERE id = ?",
                            [row[0]]).fetchone()[0]:
        found += [f"attachment:{name}" for name, text in archive.document_texts(row[0])
                  if _matching(text, terms)]
    return tuple(found)


def prefix_terms(archive: Archive, prefix: str, limit: int) -> list[str] | None:
    """The indexed words starting with ``prefix`` (at most ``limit``), or None
    when the vocabulary cannot say (more words than ``limit``, or articles
    written since it was last brought up to date)."""
    conn = archive.conn
    if conn.execute("SELECT 1 FROM search_vocab_pending LIMIT 1").fetchone():
        return None
    terms = [r[0] for r in conn.execute(
        "SELECT term FROM search_vocab WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
        [prefix, prefix + "\U0010ffff", limit + 1])]
    return None if len(terms) > limit else terms


def _expander(archive: Archive) -> Callable[[str], list[str] | None]:
    return lambda prefix: prefix_terms(archive, prefix, MAX_EXPANSION)


def _scan_sql(archive: Archive, compiled: CompiledQuery,
              filters: ArticleFilter) -> tuple[str, str, list[Any]]:
    """``(match, sql, params)``: the MATCH expression with the filters that the
    full-text index answers (author and category words), and the conditions on
    ``articles_fts f`` for the others.

    A date range becomes a range of the index's keys (FTS5 seeks to it); a
    portal (or a date bound with seconds) is checked on each match through
    its row, found by id (the key's low bits).
    """
    match = " AND ".join([compiled.match, *filters.word_matches()])
    since, until = filters.utc_range()
    lo, hi = search_key_bounds(since, until)
    # Bounds on whole minutes (every YYYY[-MM[-DD]] date is one) make the key
    # range exactly the date range; a bound with seconds is checked as well.
    exact_range = all(t is None or t.endswith(":00Z") for t in (since, until))
    # Undated articles sort after every date from 1970 on (their keys start at
    # SEARCH_EPOCH_MINUTES << 32), dates before 1970 after them. A `since` from
    # 1970 on bounds the keys below the undated ones; a range open towards the
    # past (no `since`, or one before 1970) spans the undated keys, which the
    # dates themselves then leave out.
    if (since is None and until is not None) or (hi is not None and hi > UNDATED_KEY):
        exact_range = False
    where, params = filters.where("a", dates=not exact_range, words=False)
    sql = ""
    out: list[Any] = []
    if lo is not None:
        sql += " AND f.rowid >= ?"
        out.append(lo)
    if hi is not None:
        sql += " AND f.rowid < ?"
        out.append(hi)
    if where != "1":
        sql += f" AND EXISTS (SELECT 1 FROM articles a WHERE a.id = {fts_id('f.rowid')} AND {where})"
        out += params
    return match, sql, out


def _keys(archive: Archive, match: str, scan: str, scan_params: list[Any], limit: int,
          offset: int = 0) -> list[int]:
    """Keys of the matches in index order (newest published first), a slice of them."""
    return [int(k) for (k,) in archive.conn.execute(
        f"SELECT f.rowid FROM articles_fts f WHERE articles_fts MATCH ?{scan} "
        f"ORDER BY f.rowid LIMIT ? OFFSET ?", [match, *scan_params, limit, offset])]


def _nth_key(archive: Archive, match: str, scan: str, scan_params: list[Any],
             n: int) -> int | None:
    """The key of the ``n``-th match (1-based) in index order, or None if fewer match."""
    found = _keys(archive, match, scan, scan_params, 1, n - 1)
    return found[0] if found else None


def _exact_keys(archive: Archive, exact: str, lo: int, hi: int) -> set[int]:
    """Keys in ``[lo, hi]`` that match with the diacritics as typed (one range scan)."""
    return {k for (k,) in archive.conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ? AND rowid <= ?",
        [exact, lo, hi])}


def _prepared(archive: Archive, compiled: CompiledQuery,
              filters: ArticleFilter) -> tuple[CompiledQuery, str, list[Any]]:
    """The query with its prefixes spelled out and the index-answered filters in
    its MATCH, and the scan conditions for the others (:func:`_scan_sql`)."""
    compiled = expand_prefixes(compiled, _expander(archive))
    match, scan, scan_params = _scan_sql(archive, compiled, filters)
    return replace(compiled, match=match), scan, scan_params


def _ranked_rows(archive: Archive, compiled: CompiledQuery, filters: ArticleFilter, *,
                 order: str, limit: int, offset: int, window: int | None) -> list[Any]:
    """The page of article rows, ranked; see :func:`search`."""
    if order == "relevance" and window is None:
        # every match at once by FTS5's bm25(), as FTS5 reads the query: a
        # prefix is one phrase, and the filters' words are not scored
        where, params = filters.where("a")
        scan = "" if where == "1" else (
            f" AND {fts_id('f.rowid')} IN (SELECT a.id FROM articles a WHERE {where})")
        return _rank_block(archive, compiled, scan, params, limit, offset)
    compiled, scan, scan_params = _prepared(archive, compiled, filters)
    if order == "relevance" and window is not None:
        return _ranked_by_blocks(archive, compiled, scan, scan_params, limit, offset, window)
    # Newest first is the index's own order: find where the page ends, then
    # sort the matches up to the end of that minute exactly (CROSS JOIN: from
    # those matches, not by walking the date index and probing them).
    cut = _nth_key(archive, compiled.match, scan, scan_params, offset + limit)
    if cut is not None and cut < UNDATED_KEY:  # past it: undated, then before 1970
        scan += " AND f.rowid <= ?"
        scan_params = [*scan_params, cut | ID_MASK]
    ranked = f"""
        SELECT a.search_key AS key, 0.0 AS score, 0 AS exact
        FROM (SELECT {fts_id('f.rowid')} AS id FROM articles_fts f
              WHERE articles_fts MATCH ?{scan}) c
        CROSS JOIN articles a ON a.id = c.id
        ORDER BY a.published_utc DESC, a.id DESC
        LIMIT ? OFFSET ?"""
    return _page(archive, ranked, [compiled.match, *scan_params, limit, offset],
                 "a.published_utc DESC, a.id DESC")


def _ranked_by_blocks(archive: Archive, compiled: CompiledQuery, scan: str,
                      scan_params: list[Any], limit: int, offset: int,
                      window: int) -> list[Any]:
    """Blocks of ``window`` matches in index order (newest first), each ranked by
    BM25 (:mod:`archive.rank`): page after page, nothing lost or repeated."""
    conn = archive.conn
    terms = compiled.highlight
    stats: Stats | None = None
    rows: list[Any] = []
    pos = offset
    while len(rows) < limit:
        block = pos // window
        keys = _keys(archive, compiled.match, scan, scan_params, window, block * window)
        if not keys:
            break
        if stats is None:
            stats = collection_stats(conn, terms, FOLDED_COLUMNS,
                                     expand=_expander(archive))
        scores = score_block(conn, keys, terms, stats, _WEIGHTS)
        exact = (set() if compiled.exact is None
                 else _exact_keys(archive, compiled.exact, keys[0], keys[-1]))
        ranked = sorted(keys, key=lambda k: (k not in exact, -scores.get(k, 0.0), k))
        start = pos - block * window
        page = ranked[start:start + limit - len(rows)]
        rows += _rows_for(archive, [(k, -scores.get(k, 0.0), k in exact) for k in page])
        if len(keys) < window:
            break
        pos = (block + 1) * window
    return rows


def _rows_for(archive: Archive, ranked: list[tuple[int, float, bool]]) -> list[Any]:
    """Article rows for ``(key, score, exact)``, in that order (same shape as :func:`_page`)."""
    if not ranked:
        return []
    ids = [key_id(k) for k, _, _ in ranked]
    found = {r[0]: r for r in archive.conn.execute(
        "SELECT a.id, a.canonical_url, a.title, a.published, a.portal_id, a.author, "
        f"a.category, a.body FROM articles a WHERE a.id IN ({','.join('?' * len(ids))})", ids)}
    return [(*found[i], score, exact, key) for i, (key, score, exact) in zip(ids, ranked,
                                                                            strict=True)
            if i in found]


def _rank_block(archive: Archive, compiled: CompiledQuery, scan: str, scan_params: list[Any],
                limit: int, offset: int) -> list[Any]:
    """Rank the matches within ``scan`` by relevance; a page of article rows."""
    exact_sql = "0"
    params: list[Any] = []
    if compiled.exact is not None:
        exact_sql = (f"f.rowid IN (SELECT f.rowid FROM articles_fts f "
                     f"WHERE articles_fts MATCH ?{scan})")
        params += [compiled.exact, *scan_params]
    weights = ", ".join(str(_WEIGHTS.get(c, 0.0)) for c in FTS_COLUMNS)
    # Rank keys only (no article text through the sort), then read the page.
    ranked = f"""
        SELECT f.rowid AS key, bm25(articles_fts, {weights}) AS score,
               ({exact_sql}) AS exact
        FROM articles_fts f
        WHERE articles_fts MATCH ?{scan}
        ORDER BY exact DESC, score, f.rowid
        LIMIT ? OFFSET ?"""
    params += [compiled.match, *scan_params, limit, offset]
    return _page(archive, ranked, params, "r.exact DESC, r.score, r.key")


def _page(archive: Archive, ranked: str, params: list[Any], order: str) -> list[Any]:
    sql = f"""
        WITH r AS MATERIALIZED ({ranked})
        SELECT a.id, a.canonical_url, a.title, a.published, a.portal_id, a.author,
               a.category, a.body, r.score, r.exact, r.key
        FROM r JOIN articles a ON a.id = {fts_id('r.key')}
        ORDER BY {order}"""
    return archive.conn.execute(sql, params).fetchall()


def _mark_exact(archive: Archive, exact: str, rows: list[Any]) -> list[Any]:
    """Set the ``exact`` flag of a page of date-ordered rows (their keys are a
    short run of the index: one range scan)."""
    if not rows:
        return rows
    keys = [r[10] for r in rows]
    hits = _exact_keys(archive, exact, min(keys), max(keys))
    return [(*r[:9], r[10] in hits, r[10]) for r in rows]


def newest_matches(archive: Archive, query: str | CompiledQuery, filters: ArticleFilter,
                   limit: int) -> list[int]:
    """Ids of the newest (by publication) ``limit`` articles matching ``query`` under
    ``filters`` (its own ``query`` ignored): the index's order, so the cost
    follows ``limit``, not the number of matches."""
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query)
    compiled, scan, params = _prepared(archive, compiled, replace(filters, query=None))
    return [key_id(k) for k in _keys(archive, compiled.match, scan, params, limit)]


def count_matches(archive: Archive, query: str, **filters: Any) -> int:
    """How many articles match ``query`` under ``filters`` (ArticleFilter fields)."""
    return count_articles(archive, ArticleFilter(query=query, **filters))
