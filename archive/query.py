"""A small, forgiving search-query language compiled to safe FTS5 MATCH expressions.

The language, as a user types it::

    nong thon moi            all three words (AND is implied)
    "nông thôn mới"          a phrase: the words next to each other, in order
    thôn*                    a prefix: thôn, thông, thống …
    a OR b                   either word (AND binds tighter than OR)
    a AND b                  both words (the same as ``a b``)
    a NOT b,  a -b           a without b
    (a OR b) c               grouping

Operators are recognised only in upper case and only where they make sense;
anywhere else ``AND``/``OR``/``NOT`` are ordinary words. Stray quotes are
closed, unbalanced parentheses are dropped, and anything that is not a
letter or digit (emoji, punctuation, FTS5 syntax such as ``NEAR(`` or
``col:``) separates words and never reaches FTS5. Every word goes to FTS5
inside double quotes, so user input cannot change the shape of the MATCH
expression.

Each query compiles twice: a **folded** form (diacritics removed, the way
the folded index columns are stored) that decides which articles match, and,
when the user typed any diacritics, an **exact** form over the exact columns
used to rank articles that match the diacritics as typed above the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from archive.errors import SearchError
from archive.store.fulltext import EXACT_COLUMNS, FOLDED_COLUMNS
from archive.textfold import WORD_RE, fold, has_diacritics, nfc

#: Longest query accepted, in characters.
MAX_QUERY_CHARS = 1000
#: Most words (phrase words included) accepted in one query.
MAX_QUERY_WORDS = 64

# ---------------------------------------------------------------------- AST
@dataclass(frozen=True)
class Term:
    """A word or a phrase (several words in order), optionally a prefix.

    ``words`` are NFC and lower case; ``prefix`` applies to the last word.
    """

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class And:
    """All of ``include``, none of ``exclude``."""

    include: tuple[Node, ...]
    exclude: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Or:
    """Any of ``options``."""

    options: tuple[Node, ...]


Node = Term | And | Or


@dataclass(frozen=True)
class HighlightTerm:
    """Folded words to highlight in snippets, in sequence (a phrase) or alone.

    ``prefix`` lets the last word match longer words too (``thôn*``).
    """

    words: tuple[str, ...]
    prefix: bool = False

    def match_at(self, folded_words: list[str], i: int) -> int:
        """How many words of ``folded_words`` from ``i`` on this term covers (0: none)."""
        n = len(self.words)
        if i + n > len(folded_words):
            return 0
        for k, word in enumerate(self.words):
            got = folded_words[i + k]
            last = k == n - 1
            if not (got == word or (last and self.prefix and got.startswith(word))):
                return 0
        return n


@dataclass(frozen=True)
class CompiledQuery:
    """A parsed query, ready for ``WHERE articles_fts MATCH ?``."""

    #: The query as typed.
    text: str
    #: The parse tree (exact, NFC lower-case words).
    tree: Node
    #: MATCH expression over the folded columns: decides what matches.
    match: str
    #: MATCH expression over the exact columns, or None when the query has no
    #: diacritics (then there is nothing to rank exact matches by).
    exact: str | None
    #: Folded words and phrases to highlight (excluded words are not highlighted).
    highlight: tuple[HighlightTerm, ...] = field(default=())


# -------------------------------------------------------------------- lexer
_OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class _Tok:
    kind: str  # TERM, LP, RP, AND, OR, NOT, NEG
    term: Term | None = None
    raw: str = ""


def _term(raw: str, prefix: bool) -> Term | None:
    words = tuple(m.group().lower() for m in WORD_RE.finditer(raw))
    return Term(words, prefix) if words else None


def _lex(query: str) -> list[_Tok]:
    """Split a query into tokens; never fails."""
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            raw = query[i + 1 : end]
            i = end + 1
            prefix = i < n and query[i] == "*"
            if prefix:
                i += 1
            term = _term(raw, prefix)
            if term:
                toks.append(_Tok("TERM", term, raw))
        elif ch in "()":
            toks.append(_Tok("LP" if ch == "(" else "RP", raw=ch))
            i += 1
        elif ch == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            toks.append(_Tok("NEG", raw=ch))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '"()':
                j += 1
            raw = query[i:j]
            i = j
            if raw in _OPERATORS:
                toks.append(_Tok(raw, raw=raw))
                continue
            term = _term(raw, raw.endswith("*"))
            if term:
                toks.append(_Tok("TERM", term, raw))
    return _balance(toks)


def _balance(toks: list[_Tok]) -> list[_Tok]:
    """Drop unmatched ``)``, close unclosed ``(``, drop empty ``()``."""
    out: list[_Tok] = []
    depth = 0
    for tok in toks:
        if tok.kind == "RP":
            if depth == 0:
                continue
            depth -= 1
            if out and out[-1].kind == "LP":
                out.pop()
                continue
        elif tok.kind == "LP":
            depth += 1
        out.append(tok)
    out.extend(_Tok("RP", raw=")") for _ in range(depth))
    # A NEG with nothing to negate is just punctuation.
    return [t for k, t in enumerate(out)
            if not (t.kind == "NEG" and (k + 1 == len(out) or out[k + 1].kind not in ("TERM", "LP")))]


def _resolve_operators(toks: list[_Tok]) -> list[_Tok]:
    """Keep AND/OR/NOT as operators only where they have operands.

    A dangling operator (``a OR``) is dropped; a query of nothing but
    operators (``AND``) searches for them as ordinary words.
    """
    starts = ("TERM", "LP", "NEG", "NOT")
    out: list[_Tok] = []
    for k, tok in enumerate(toks):
        if tok.kind in _OPERATORS:
            nxt = toks[k + 1].kind if k + 1 < len(toks) else "END"
            prev = out[-1].kind if out else "START"
            if tok.kind == "NOT":
                ok = nxt in ("TERM", "LP", "NEG")
            else:
                ok = prev in ("TERM", "RP") and nxt in starts
            if not ok:
                tok = _Tok("DROP", Term((tok.raw.lower(),)), tok.raw)
        out.append(tok)
    if any(t.kind == "TERM" for t in out):
        return [t for t in out if t.kind != "DROP"]
    # Nothing but stray operators ("AND", "OR NOT"): search for them as words.
    return [_Tok("TERM", t.term, t.raw) if t.kind == "DROP" else t for t in out]


# ------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0

    def peek(self) -> str:
        return self.toks[self.pos].kind if self.pos < len(self.toks) else "END"

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node | None:
        node = self.parse_or()
        # Only a stray ")" can stop parse_or early, and _balance removed those.
        return node

    def parse_or(self) -> Node | None:
        options = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            options.append(self.parse_and())
        kept = tuple(o for o in options if o is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(kept)

    def parse_and(self) -> Node | None:
        include: list[Node] = []
        exclude: list[Node] = []
        while self.peek() not in ("END", "RP", "OR"):
            kind = self.peek()
            if kind == "AND":
                self.take()
                continue
            negate = kind in ("NOT", "NEG")
            if negate:
                self.take()
            node = self.parse_atom()
            if node is not None:
                (exclude if negate else include).append(node)
        if not include and not exclude:
            return None
        if len(include) == 1 and not exclude:
            return include[0]
        return And(tuple(include), tuple(exclude))

    def parse_atom(self) -> Node | None:
        if self.peek() in ("END", "RP", "OR"):
            return None
        tok = self.take()
        if tok.kind == "TERM":
            return tok.term
        if tok.kind == "LP":
            node = self.parse_or()
            if self.peek() == "RP":
                self.take()
            return node
        # NOT/NEG/AND where an operand was expected: skip it.
        return self.parse_atom()


# ----------------------------------------------------------------- compiler
#: Gives the indexed words a prefix stands for, or None to let FTS5 expand it.
Expander = Callable[[str], Sequence[str] | None]


def _phrase(words: list[str]) -> str:
    """An FTS5 phrase of ``words`` (quoted: no word reaches FTS5 as syntax)."""
    return '"' + " ".join(words).replace('"', '""') + '"'


def _render(node: Node, form: Callable[[str], str], expand: Expander | None = None) -> str:
    if isinstance(node, Term):
        words = [form(w) for w in node.words]
        if node.prefix and expand is not None:
            full = expand(words[-1])
            if full:
                return "(" + " OR ".join(_phrase([*words[:-1], w]) for w in full) + ")"
        return _phrase(words) + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(_render(o, form, expand) for o in node.options) + ")"
    if not node.include:
        raise SearchError(
            "nothing to search for: NOT / -word only exclude; add a word to look for"
        )
    expr = "(" + " AND ".join(_render(i, form, expand) for i in node.include) + ")"
    if node.exclude:
        expr += " NOT (" + " OR ".join(_render(e, form, expand) for e in node.exclude) + ")"
    return expr


def _walk_terms(node: Node, *, positive_only: bool) -> Iterator[Term]:
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Or):
        for o in node.options:
            yield from _walk_terms(o, positive_only=positive_only)
    else:
        for i in node.include:
            yield from _walk_terms(i, positive_only=positive_only)
        if not positive_only:
            for e in node.exclude:
                yield from _walk_terms(e, positive_only=positive_only)


def _columns(cols: tuple[str, ...], expr: str) -> str:
    return "{" + " ".join(cols) + "} : (" + expr + ")"


def parse(query: str) -> Node:
    """Parse a query into its tree, or raise :class:`SearchError`."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(
            f"query too long ({len(query)} characters; at most {MAX_QUERY_CHARS})"
        )
    tree = _Parser(_resolve_operators(_lex(nfc(query)))).parse()
    if tree is None:
        if query.strip():
            raise SearchError(f"nothing to search for in {query.strip()[:60]!r}: "
                              "give at least one word of letters or digits")
        raise SearchError("empty query: give at least one word to search for")
    n_words = sum(len(t.words) for t in _walk_terms(tree, positive_only=False))
    if n_words > MAX_QUERY_WORDS:
        raise SearchError(f"query has too many words ({n_words}; at most {MAX_QUERY_WORDS})")
    return tree


def term_match(words: Sequence[str], prefix: bool, columns: Sequence[str],
               expand: Expander | None = None) -> str:
    """A MATCH expression for one word or phrase (already in the columns' form)."""
    return _columns(tuple(columns), _render(Term(tuple(words), prefix), lambda w: w, expand))


def expand_prefixes(compiled: CompiledQuery, expand: Expander) -> CompiledQuery:
    """``compiled`` with each ``prefix*`` spelled out as an OR of the words
    ``expand`` gives for it (same matches; FTS5 then reads the postings lazily
    instead of merging all of them first)."""
    if not any(t.prefix for t in _walk_terms(compiled.tree, positive_only=False)):
        return compiled
    match = _columns(FOLDED_COLUMNS, _render(compiled.tree, fold, expand))
    exact = (None if compiled.exact is None
             else _columns(EXACT_COLUMNS, _render(compiled.tree, lambda w: w, expand)))
    return replace(compiled, match=match, exact=exact)


def compile_query(query: str) -> CompiledQuery:
    """Parse ``query`` and build its folded and exact FTS5 MATCH expressions."""
    tree = parse(query)
    match = _columns(FOLDED_COLUMNS, _render(tree, fold))
    all_words = [w for t in _walk_terms(tree, positive_only=True) for w in t.words]
    exact = (
        _columns(EXACT_COLUMNS, _render(tree, lambda w: w))
        if any(has_diacritics(w) for w in all_words)
        else None
    )
    highlight: list[HighlightTerm] = []
    for term in _walk_terms(tree, positive_only=True):
        ht = HighlightTerm(tuple(fold(w) for w in term.words), term.prefix)
        if ht not in highlight:
            highlight.append(ht)
    return CompiledQuery(query, tree, match, exact, tuple(highlight))
