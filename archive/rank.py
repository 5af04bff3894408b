"""BM25 over a block of candidate articles, with collection statistics that cost
the same at a thousand articles as at a million.

FTS5's own ``bm25()`` first counts, for every phrase of the query, how many
rows of the *whole* index contain it: a walk over the phrase's complete
posting list on every query. For the words every district portal uses
("xã", "huyện", "nông thôn mới") that is most of a million-article archive,
hundreds of milliseconds before the first row is scored, however few rows
are ranked. This module scores a bounded block of candidates itself, with the
same formula (Robertson/Spärck Jones IDF, ``k1 = 1.2``, ``b = 0.75``, column
weights applied to the term frequency as FTS5 does), and takes the
statistics from places that stay cheap:

* **N and the average row length**: FTS5's own averages record
  (``articles_fts_data`` row 1), exact and read in microseconds;
* **document frequency** of each phrase: counted over the newest
  :data:`IDF_SAMPLE` articles of the index (a bounded walk), scaled to the
  archive — an estimate from the recent collection, exact while the archive
  is no bigger than the sample;
* **row length**: FTS5's per-row token counts (``articles_fts_docsize``);
* **term frequency**: counted in the candidates' folded text, token by token
  as FTS5's ``unicode61`` tokenizer sees it (:class:`PhraseCounter`).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from archive.query import Expander, HighlightTerm, term_match
from archive.store.fulltext import FOLDED_COLUMNS, FTS_COLUMNS, key_id

#: BM25 parameters, as FTS5's bm25().
K1 = 1.2
B = 0.75
#: Document frequencies are counted over this many newest articles.
IDF_SAMPLE = 20_000
#: At most this many phrases of a query get their own document frequency
#: (a longer query's remaining phrases share the rarest one's IDF).
MAX_COUNTED_PHRASES = 12

#: The scored columns (folded text) and their FTS5 column positions.
SCORED = tuple((name, FTS_COLUMNS.index(name)) for name in FOLDED_COLUMNS)



def _varints(blob: bytes) -> list[int]:
    """SQLite's big-endian varints (FTS5's record format)."""
    out: list[int] = []
    i = 0
    while i < len(blob):
        value = 0
        for k in range(9):
            byte = blob[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


class PhraseCounter:
    """Counts a word or phrase in folded text the way FTS5 matches it: whole
    tokens (``unicode61``: letters and digits), in sequence, the last one a
    prefix when the term is. One regular expression, searched only in texts
    that hold the first word at all."""

    def __init__(self, term: HighlightTerm) -> None:
        self.first = first = term.words[0]
        rest = "".join(r"[\W_]+" + re.escape(w) for w in term.words[1:])
        lit = re.escape(first)
        # The first word opens the pattern, so the regex engine can jump from
        # one occurrence of it to the next; the check that no letter comes
        # before it looks behind (a lookbehind first is ten times slower).
        tail = r"[^\W_]*" if term.prefix else ""
        self._unicode = re.compile(rf"{lit}(?<![^\W_]{lit}){rest}{tail}(?![^\W_])")
        # ASCII text (nearly all folded Vietnamese): the same with ASCII classes
        alnum = "[A-Za-z0-9]"
        tail_ascii = alnum + "*" if term.prefix else ""
        self._ascii = re.compile(rf"{lit}(?<!{alnum}{lit}){rest}{tail_ascii}(?!{alnum})",
                                 re.ASCII)

    def count(self, text: str) -> int:
        if self.first not in text:
            return 0
        pattern = self._ascii if text.isascii() else self._unicode
        return len(pattern.findall(text))


@dataclass(frozen=True)
class Stats:
    """Collection statistics for one query."""

    rows: int
    #: Average scored length (tokens of the scored columns) per row.
    avg_len: float
    #: IDF per phrase, in the order of the terms given.
    idf: tuple[float, ...]


def collection_stats(conn: sqlite3.Connection, terms: Sequence[HighlightTerm],
                     columns: Sequence[str], sample: int = IDF_SAMPLE,
                     expand: Expander | None = None) -> Stats:
    """N, average length and an IDF per phrase (see the module docstring)."""
    row = conn.execute("SELECT block FROM articles_fts_data WHERE id = 1").fetchone()
    totals = _varints(bytes(row[0])) if row else [0]
    n_rows = totals[0] if totals else 0
    scored_total = sum(totals[1 + pos] for _, pos in SCORED if 1 + pos < len(totals))
    avg_len = scored_total / n_rows if n_rows else 1.0
    cut_row = conn.execute("SELECT id FROM articles_fts_docsize ORDER BY id LIMIT 1 OFFSET ?",
                           [sample - 1]).fetchone()
    sample_rows = n_rows if cut_row is None else sample
    idf: list[float] = []
    for term in terms[:MAX_COUNTED_PHRASES]:
        sql = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
        params: list[object] = [term_match(term.words, term.prefix, columns, expand)]
        if cut_row is not None:
            sql += " AND rowid <= ?"
            params.append(cut_row[0])
        hits = conn.execute(sql, params).fetchone()[0]
        # scale the sample's count to the archive; FTS5's formula and floor
        n_hit = hits * n_rows / sample_rows if sample_rows else 0.0
        value = math.log((n_rows - n_hit + 0.5) / (n_hit + 0.5)) if n_rows else 0.0
        idf.append(value if value > 0 else 1e-6)
    if len(terms) > MAX_COUNTED_PHRASES:
        idf += [max(idf)] * (len(terms) - MAX_COUNTED_PHRASES)
    return Stats(n_rows, max(avg_len, 1.0), tuple(idf))


def score_block(conn: sqlite3.Connection, keys: Sequence[int], terms: Sequence[HighlightTerm],
                stats: Stats, weights: dict[str, float]) -> dict[int, float]:
    """BM25 (higher is better) of each article key in ``keys``."""
    if not keys:
        return {}
    counters = [PhraseCounter(t) for t in terms]
    column_weights = [weights.get(name, 0.0) for name, _ in SCORED]
    marks = ",".join("?" * len(keys))
    lengths = {k: sum(v[pos] for _, pos in SCORED if pos < len(v)) for k, v in (
        (k, _varints(bytes(sz))) for k, sz in conn.execute(
            f"SELECT id, sz FROM articles_fts_docsize WHERE id IN ({marks})", list(keys)))}
    cols = ", ".join(name for name, _ in SCORED)
    scores: dict[int, float] = {}
    for key, *texts in conn.execute(
            f"SELECT search_key, {cols} FROM articles WHERE id IN ({marks})",
            [key_id(k) for k in keys]):
        norm = K1 * (1 - B + B * lengths.get(key, stats.avg_len) / stats.avg_len)
        total = 0.0
        for counter, idf in zip(counters, stats.idf, strict=True):
            freq = 0.0
            for weight, text in zip(column_weights, texts, strict=True):
                if text:
                    n = counter.count(text)
                    if n:
                        freq += weight * n
            if freq:
                total += idf * freq * (K1 + 1) / (freq + norm)
        scores[key] = total
    return scores
