"""Engines, sessions and schema migration.

``make_engine`` is the only place that knows about dialect quirks: SQLite gets
WAL, a busy timeout and foreign keys; PostgreSQL gets pre-ping so a worker
survives a database restart. There is no module-level engine: callers build
one from their Settings and pass it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, ExceptionContext, make_url
from sqlalchemy.exc import NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from pipeline.errors import DatabaseCorrupt, DatabaseRefused, DatabaseUnavailable, StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: How long a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; creates the SQLite file's directory.

    Refuses (DatabaseRefused, one line) a URL no installed driver serves, a
    directory that cannot be created, and (DatabaseCorrupt) an existing file that
    is not an intact SQLite database: newsmon never writes over such a file.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long text
        raise DatabaseRefused(f"not a database URL: {url!r}{_URL_HINT}") from exc
    kwargs: dict[str, Any] = {"echo": echo}
    sqlite_path = sqlite_file(parsed)
    if parsed.get_backend_name() == "sqlite":
        if sqlite_path is not None:
            _prepare_sqlite_file(sqlite_path)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        shown = parsed.render_as_string(hide_password=True)
        raise DatabaseRefused(
            f"no database driver for {shown!r} ({type(exc).__name__}){_URL_HINT}"
        ) from exc
    where = str(sqlite_path) if sqlite_path else parsed.render_as_string(hide_password=True)
    event.listen(engine, "handle_error", lambda ctx: _classify_error(ctx, where))
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", lambda conn, rec: _sqlite_pragmas(conn, where))
        # pysqlite's own transaction handling defers BEGIN until the first
        # write, which lets two writers interleave reads and then fail; take
        # the write lock at BEGIN instead, so the second writer waits.
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


_URL_HINT = (
    "; set NEWSMON_DATABASE_URL to sqlite:////path/newsmon.db or "
    "postgresql://user:password@host:5432/dbname"
)
SQLITE_HEADER = b"SQLite format 3\x00"
# sqlite3 result codes (https://sqlite.org/rescode.html) that retrying cannot fix
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_READONLY, _SQLITE_CANTOPEN = 8, 14
BACKUP_HINT = "restore the last backup (README: Backup and restore)"


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def corrupt_message(path: Path | str, why: str) -> str:
    """The DatabaseCorrupt message for ``path``: what is wrong and how to recover."""
    return (
        f"the SQLite database {path} is damaged ({why}); newsmon will not write to it: "
        f"{BACKUP_HINT}, or move the file away and run 'newsmon init' to start empty"
    )


def _prepare_sqlite_file(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseRefused(
            f"cannot create the directory of the SQLite database {path}: "
            f"{exc.strerror or exc}; set NEWSMON_HOME to a writable directory"
        ) from exc
    check_sqlite_header(path)


def check_sqlite_header(path: Path) -> None:
    """Raise DatabaseCorrupt unless ``path`` is absent, empty or an intact SQLite file.

    Reads the 100-byte header only: the magic string, and the page count times the
    page size against the file's length (a file cut short). The length check is
    skipped while a write-ahead log is pending, whose pages the file lacks until
    the next checkpoint.
    """
    if not path.exists():
        return
    if not path.is_file():
        raise DatabaseRefused(f"the SQLite database {path} is not a regular file")
    size = path.stat().st_size
    if size == 0:
        return  # SQLite's own "new database" state
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise DatabaseRefused(f"cannot read the SQLite database {path}: {exc.strerror}") from exc
    if not header.startswith(SQLITE_HEADER):
        raise DatabaseCorrupt(corrupt_message(path, "it does not start with the SQLite header"))
    if len(header) < 100:
        raise DatabaseCorrupt(corrupt_message(path, f"only {size} bytes"))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    change_counter = int.from_bytes(header[24:28], "big")
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    expected = pages * page_size
    if pages and valid_for == change_counter and not wal_pending and size < expected:
        raise DatabaseCorrupt(corrupt_message(path, f"truncated: {size} of {expected} bytes"))


def _sqlite_refusal(exc: BaseException, where: str) -> StorageError | None:
    """The newsmon error for a sqlite3 error that retrying cannot fix, else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    reason = str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return DatabaseCorrupt(corrupt_message(where, reason))
    if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
        return DatabaseRefused(
            f"cannot write the SQLite database {where} ({reason}); "
            "check that NEWSMON_HOME is a writable directory"
        )
    return None


def _classify_error(ctx: ExceptionContext, where: str) -> None:
    """handle_error hook: turn permanent SQLite failures into newsmon's one-line errors."""
    refusal = _sqlite_refusal(ctx.original_exception, where)
    if refusal is not None:
        raise refusal from ctx.original_exception


def _sqlite_pragmas(dbapi_conn: Any, where: str) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cur = dbapi_conn.cursor()
    try:
        # WAL is a persistent change to the file: never make it to another program's
        # database (tables, none of them Alembic's), which migrate() will refuse anyway.
        cur.execute(
            "SELECT count(*), coalesce(sum(name = 'alembic_version'), 0) FROM sqlite_master "
            "WHERE type = 'table'"
        )
        tables, ours = cur.fetchone()
        if not tables or ours:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except Exception as exc:  # runs outside SQLAlchemy's error handling
        refusal = _sqlite_refusal(exc, where)
        if refusal is not None:
            raise refusal from exc
        raise
    finally:
        cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a one-line reason if the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"database unreachable ({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise DatabaseUnavailable(f"database error: {str(exc.orig or exc).strip()}") from exc
        except Exception:
            session.rollback()
            raise


def alembic_config(url: str) -> Any:
    """Alembic Config for newsmon's migrations on ``url``, built in code (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # "%" would be read as interpolation by configparser
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _refuse_foreign_schema(conn: Any) -> None:
    """A database with tables but no Alembic version is some other program's: leave it."""
    from sqlalchemy import inspect

    tables = set(inspect(conn).get_table_names())
    if tables and "alembic_version" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseRefused(
            f"{conn.engine.url.render_as_string(hide_password=True)} holds tables that are not "
            f"newsmon's ({shown}); newsmon will not migrate it: point NEWSMON_DATABASE_URL "
            "at newsmon's own database or an empty one"
        )


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (idempotent)."""
    from alembic import command

    check_connection(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        _refuse_foreign_schema(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_status(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(revisions the database is at, newest revisions of the migrations); read-only."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return tuple(sorted(current)), tuple(sorted(heads))


def integrity_check(engine: Engine) -> str:
    """SQLite: ``PRAGMA quick_check`` (DatabaseCorrupt with its findings unless "ok").

    PostgreSQL checks its pages itself (and data checksums are a cluster setting), so a
    successful catalogue query is what is asked of it here.
    """
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn.execute(text("SELECT count(*) FROM pg_catalog.pg_class"))
            return "reachable"
        rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check(20)")]
    if rows != ["ok"]:
        where = engine.url.database or "the database"
        raise DatabaseCorrupt(corrupt_message(where, "quick_check: " + "; ".join(rows)[:300]))
    return "quick_check ok"
