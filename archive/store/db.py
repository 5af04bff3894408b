"""The archive's SQLite connection: opening, pragmas, transactions, bulk loads.

Every connection the library opens runs in **WAL** mode (readers never wait
for the writer) with foreign keys on, ``synchronous = NORMAL`` and a busy
timeout, and has the SQL functions the reads use registered (``pa_fold``,
``pa_has_words``). Opening an archive applies the migrations it lacks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from archive.errors import HOW_TO_FILL, ArchiveError
from archive.store.fulltext import has_vocabulary, rebuild_index, rebuild_vocabulary
from archive.store.migrations import migrate
from archive.textfold import fold_opt, has_words

#: Where the CLI looks for an archive unless told otherwise.
DEFAULT_DB = "data/archive.db"


class Database:
    """One open archive database, shared by the parts of :class:`~archive.store.Archive`."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        """Open the archive at ``path``, creating it (and its folder) when ``create``.

        With ``create=False`` a missing file, a file that is not SQLite, or a
        database that holds no archive raise :class:`ArchiveError`.
        """
        self.path = str(path)
        #: Inside :meth:`bulk_load` (the vocabulary is read once, at its end).
        self.bulk = False
        self._vocab: bool | None = None
        memory = self.path == ":memory:"
        if not memory:
            file = Path(path)
            if not create and not file.is_file():
                raise ArchiveError(f"no archive at {self.path} — {HOW_TO_FILL}")
            if create:
                file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite_utils.Database(self.path, execute_plugins=False)
            self.db.execute("PRAGMA schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot open the archive {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path} is not a SQLite database ({exc})") from exc
        try:
            self._configure(memory)
            if not create and "schema_migrations" not in self.db.table_names():
                raise ArchiveError(
                    f"{self.path} is empty or not a portal-archive database — {HOW_TO_FILL}"
                )
            #: The migrations this opening applied.
            self.applied_migrations = migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def over_connection(cls, conn: sqlite3.Connection, path: str) -> Database:
        """A read-side database over a connection someone else opened and owns:
        no migration is run, nothing is written; the SQL functions are registered."""
        database = cls.__new__(cls)
        database.path = path
        database.bulk = False
        database._vocab = None
        database.db = sqlite_utils.Database(conn, execute_plugins=False)
        database.applied_migrations = []
        _register_functions(conn)
        return database

    def _configure(self, memory: bool) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        if not memory:
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
        _register_functions(conn)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @property
    def folder(self) -> Path:
        """The archive's data folder: where the database file lives."""
        return Path(self.path).resolve().parent if self.path != ":memory:" else Path.cwd()

    @property
    def schema_version(self) -> int:
        """How many migrations the database has applied (``PRAGMA user_version``)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self.db.journal_mode)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """A transaction that takes the write lock at its start (``BEGIN IMMEDIATE``).

        For writes that read first (upserts): two connections writing at once
        (the crawl's store thread and its image pipeline) then wait for each
        other through ``busy_timeout``, instead of one failing with "database
        is locked" when the other commits between its read and its write.
        Inside an open transaction it is a savepoint, as ``atomic()`` is.
        """
        if self.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise

    def has_vocabulary(self) -> bool:
        """Whether this archive keeps a search vocabulary (:mod:`archive.store.fulltext`)."""
        if self._vocab is None:
            self._vocab = has_vocabulary(self.conn)
        return self._vocab

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load many articles with the full-text triggers off, then index them once.

        Inside the block article writes touch ``articles`` and ``images``
        only; on exit the FTS index is rebuilt from ``articles`` in one pass
        and the triggers are recreated exactly as they were (their SQL is read
        back from ``sqlite_master``), so the schema is unchanged. For loading a
        new or offline archive (benchmarks, imports): another writer during
        the block would not be indexed until the rebuild.
        """
        triggers = [tuple(r) for r in self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'articles' AND name LIKE 'articles_fts_%'")]
        with self.db.atomic():
            for name, _ in triggers:
                self.conn.execute(f'DROP TRIGGER "{name}"')
        self.bulk = True
        try:
            yield
        finally:
            self.bulk = False
            with self.db.atomic():
                rebuild_index(self.conn)
                for _, sql in triggers:
                    self.conn.execute(sql)
                if self.has_vocabulary():
                    rebuild_vocabulary(self.conn)


def _register_functions(conn: sqlite3.Connection) -> None:
    # Used by read queries only (filters); writes never depend on them.
    conn.create_function("pa_fold", 1, fold_opt, deterministic=True)
    conn.create_function("pa_has_words", 2, has_words, deterministic=True)
