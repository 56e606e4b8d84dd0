"""One database URL configures both stores.

The event store is the eventsourcing library's own SQLite or PostgreSQL module (faster
than its SQLAlchemy recorder); SQLAlchemy holds everything else (users, read models,
jobs) in the same database, so a deployment has one file or one PostgreSQL database.
``memory://`` keeps both in memory, for the service-layer tests.
"""

from __future__ import annotations

import fcntl
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

DATABASE_URL_ENV = "KONVERGEN_DATABASE_URL"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# PostgreSQL advisory lock key for Storage.schema_lock (the event store's own tables
# use another key, in service.households, so the two never wait on each other).
TABLES_LOCK_KEY = 0x4B564E_5441424C  # "KVN" "TABL"
INSTANCE_PATH_ENV = "KONVERGEN_INSTANCE_PATH"


class StorageConfigError(ValueError):
    """The database URL cannot be used; the message says why."""


def default_instance_path() -> Path:
    return Path(os.environ.get(INSTANCE_PATH_ENV) or Path.cwd() / "instance")


def database_url_from_env() -> str:
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    return f"sqlite:///{default_instance_path() / 'konvergen.db'}"


@dataclass(frozen=True)
class Storage:
    """What the URL names: the event store's settings and a SQLAlchemy engine."""

    url: str
    kind: str  # "sqlite", "postgresql" or "memory"
    eventstore_env: dict
    engine: Engine

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Held while creating tables and loading default rows, so that processes
        starting together on a fresh database take turns: SQLAlchemy's create_all
        checks, then creates ("table regions already exists"), and two loads of the
        default regions collide on their keys. PostgreSQL: an advisory lock; SQLite: an
        exclusive lock on a file beside the database; in memory there is no one else.
        """
        if self.kind == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": TABLES_LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": TABLES_LOCK_KEY})
                    connection.commit()
        elif self.kind == "sqlite":
            with open(f"{self.eventstore_env['SQLITE_DBNAME']}.lock", "a+b") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        else:
            yield


def open_storage(url: str | None = None) -> Storage:
    url = url or database_url_from_env()
    if url.startswith("memory:"):
        engine = create_engine(
            "sqlite+pysqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        return Storage(url, "memory", env, engine)
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy.exc.ArgumentError
        raise StorageConfigError(f"{DATABASE_URL_ENV}: cannot parse {url!r}: {error}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise StorageConfigError(
                f"{DATABASE_URL_ENV}: SQLite needs a file path (use memory:// for a throwaway store)"
            )
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            f"sqlite+pysqlite:///{path}",
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "service.audit.chain_store:ChainedSQLiteApplicationRecorder",
        }
        return Storage(url, "sqlite", env, engine)
    if backend in ("postgresql", "postgres"):
        schema = parsed.query.get("schema")
        connect_args = {}
        if schema is not None:
            if not isinstance(schema, str) or not _SCHEMA_NAME.match(schema):
                raise StorageConfigError(
                    f"{DATABASE_URL_ENV}: schema {schema!r} must be letters, digits and underscores"
                )
            # psycopg knows no "schema" option: the tables find it through search_path.
            connect_args["options"] = f"-csearch_path={schema}"
        engine = create_engine(
            parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg"),
            pool_pre_ping=True,
            pool_size=10,
            connect_args=connect_args,
        )
        if schema:
            _ensure_schema(engine, schema)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.database or "",
            "POSTGRES_HOST": parsed.host or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or "postgres",
            "POSTGRES_PASSWORD": parsed.password or "",
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": "service.audit.chain_store:ChainedPostgresApplicationRecorder",
        }
        if schema:
            env["POSTGRES_SCHEMA"] = schema
        return Storage(url, "postgresql", env, engine)
    raise StorageConfigError(
        f"{DATABASE_URL_ENV}: unsupported database {backend!r}; use sqlite:///FILE or postgresql://..."
    )


def _ensure_schema(engine: Engine, schema: str) -> None:
    """The schema a URL names must exist before either store creates tables in it."""
    with engine.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}).first():
            return
        try:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
        except IntegrityError:  # another process created it at the same moment
            connection.rollback()


def _configure_sqlite(engine: Engine) -> None:
    """WAL like the event store, and foreign keys on; a busy file waits, never fails."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
