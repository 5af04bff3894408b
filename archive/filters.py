"""Filters shared by search, export, counts: portal, date range, author, category, query.

A filter compiles to a SQL ``WHERE`` fragment over the ``articles`` table
(aliased ``a``) and its parameters; values never reach SQL as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive.errors import FilterError
from archive.query import compile_query, term_match
from archive.store.fulltext import fts_id
from archive.store.records import utc_iso
from archive.textfold import WORD_RE, fold, nfc
from scraper.extract.article import VIETNAM_TZ

if TYPE_CHECKING:
    from archive.store import Archive

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def date_bounds(value: str, *, option: str = "date") -> tuple[str, str]:
    """The UTC interval ``[start, end)`` a date the user typed stands for.

    ``YYYY``, ``YYYY-MM`` and ``YYYY-MM-DD`` are whole periods of Vietnam local
    time (``2022`` = 2022-01-01 00:00 +07:00 up to 2023-01-01 00:00 +07:00);
    a full ISO 8601 timestamp stands for that second.
    """
    text = value.strip()
    m = _DATE_RE.match(text)
    try:
        if m:
            year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
            start_d = date(year, month, day)
            if m[3]:
                end_d = start_d + timedelta(days=1)
            elif m[2]:
                end_d = date(year + month // 12, month % 12 + 1, 1)
            else:
                end_d = date(year + 1, 1, 1)
            start = datetime(start_d.year, start_d.month, start_d.day, tzinfo=VIETNAM_TZ)
            end = datetime(end_d.year, end_d.month, end_d.day, tzinfo=VIETNAM_TZ)
        else:
            start = datetime.fromisoformat(text.replace("Z", "+00:00"))
            end = start + timedelta(seconds=1)
    except ValueError as exc:
        raise FilterError(
            f"bad {option} {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2022-01-15)"
        ) from exc
    return utc_iso(start), utc_iso(end)


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a search, an export or a count is about. ``None`` = any."""

    #: Portal id (``trieuson``).
    portal: str | None = None
    #: Published on or after this date (YYYY, YYYY-MM, YYYY-MM-DD, Vietnam time).
    since: str | None = None
    #: Published on or before this date (the whole year / month / day included).
    until: str | None = None
    #: Author has these words, in this order (diacritics and case ignored).
    author: str | None = None
    #: Category has these words, in this order (diacritics and case ignored).
    category: str | None = None
    #: A search query (see :mod:`archive.query`) the articles must match.
    query: str | None = None

    def utc_range(self) -> tuple[str | None, str | None]:
        """``(since, until)`` as UTC ISO instants, published in ``[since, until)``."""
        since = date_bounds(self.since, option="--since date")[0] if self.since else None
        until = date_bounds(self.until, option="--until date")[1] if self.until else None
        if since and until and since >= until:
            raise FilterError(f"--since {self.since} is after --until {self.until}")
        return since, until

    def word_filters(self) -> list[tuple[str, list[str]]]:
        """``(folded column, folded words)`` of the author and category filters.

        Both match *words*, folded, in order: ``--author "van hung"`` finds
        "Văn Hùng" and "Nguyễn Văn Hùng", not "Văn Hưng Long" or "Hùng Văn".
        """
        out = []
        for option, text, column in (("author", self.author, "author_folded"),
                                     ("category", self.category, "category_folded")):
            if text is None:
                continue
            words = [fold(m.group()) for m in WORD_RE.finditer(nfc(text))]
            if not words:
                raise FilterError(f"--{option} {text!r} has no letters or digits to look for")
            out.append((column, words))
        return out

    def word_matches(self) -> list[str]:
        """FTS5 MATCH expressions for the author and category filters (the
        full-text index answers them, so a selective filter is cheap at any size)."""
        return [term_match(words, False, (column,)) for column, words in self.word_filters()]

    def where(self, alias: str = "a", *, dates: bool = True, words: bool = True,
              words_by: str = "index") -> tuple[str, list[Any]]:
        """``(sql, params)``: a WHERE condition (``1`` when there is no filter).

        ``dates=False`` leaves the date range out, ``words=False`` the author
        and category (for a caller that applies them another way; they are
        still checked). ``words_by="function"`` tests the author and category
        words on ``alias``'s ``author_folded`` / ``category_folded`` columns with
        ``pa_has_words`` (:func:`archive.textfold.has_words`, registered on the library's
        connections) instead of the full-text index: for a table with those
        columns but no article id (a summary), or a scan that reads them anyway.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if self.portal:
            clauses.append(f"{alias}.portal_id = ?")
            params.append(self.portal)
        since, until = self.utc_range()
        if not dates:
            since = until = None
        if since:
            clauses.append(f"{alias}.published_utc >= ?")
            params.append(since)
        if until:
            clauses.append(f"{alias}.published_utc < ?")
            params.append(until)
        word_filters = self.word_filters()  # checked even when not applied here
        for column, folded in word_filters if words else []:
            if words_by == "function":
                # each word as a substring first (LIKE, in C: most rows stop
                # there), then the words as whole words in order
                likes = " AND ".join(f"{alias}.{column} LIKE ?" for _ in folded)
                clauses.append(f"({likes} AND pa_has_words({alias}.{column}, ?))")
                params += [f"%{w}%" for w in folded] + [" ".join(folded)]
            else:
                clauses.append(f"{alias}.id IN (SELECT {fts_id()} FROM articles_fts "
                               "WHERE articles_fts MATCH ?)")
                params.append(term_match(folded, False, (column,)))
        if self.query is not None:
            compiled = compile_query(self.query)
            clauses.append(
                f"{alias}.id IN (SELECT {fts_id()} FROM articles_fts "
                "WHERE articles_fts MATCH ?)"
            )
            params.append(compiled.match)
        return (" AND ".join(clauses) or "1"), params


def count_articles(archive: Archive, filters: ArticleFilter | None = None) -> int:
    """How many articles ``filters`` selects (all of them without filters)."""
    filters = filters or ArticleFilter()
    if filters.query is None:
        where, params = filters.where("a")
        return int(archive.conn.execute(
            f"SELECT count(*) FROM articles a WHERE {where}", params
        ).fetchone()[0])
    # Drive from the full-text index; other filters select ids through indexes.
    where, params = replace(filters, query=None).where("a")
    match = compile_query(filters.query).match
    restrict = (f"AND {fts_id()} IN (SELECT a.id FROM articles a WHERE {where})"
                if where != "1" else "")
    return int(archive.conn.execute(
        f"SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ? {restrict}",
        [match, *params]).fetchone()[0])
