"""Every import is itself on record: which file (by sha256), who, when, what it did.

Events an import causes carry ``source_ref = "import:<id>:row:<line>"``, and the
rejected rows are kept beside the record, so an auditor can go from a category to
the spreadsheet row, and an administrator can download an old rejection report.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterator

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from service.db import Base
from service.importing.staging import Rejection

RUNNING, COMPLETED, FAILED, ALREADY_IMPORTED = "running", "completed", "failed", "already_imported"
COUNTS = (
    "rows",
    "households_created",
    "households_updated",
    "households_unchanged",
    "households_rejected",
    "interventions_created",
    "interventions_updated",
    "interventions_unchanged",
    "rows_rejected",
)


def source_ref(import_id: str, line: int) -> str:
    return f"import:{import_id}:row:{line}"


class ImportRecord(Base):
    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    layout: Mapped[str] = mapped_column(String(20))
    username: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    file_date: Mapped[date] = mapped_column(Date)
    file_date_source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    households_created: Mapped[int] = mapped_column(Integer, default=0)
    households_updated: Mapped[int] = mapped_column(Integer, default=0)
    households_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    households_rejected: Mapped[int] = mapped_column(Integer, default=0)
    interventions_created: Mapped[int] = mapped_column(Integer, default=0)
    interventions_updated: Mapped[int] = mapped_column(Integer, default=0)
    interventions_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)


class ImportRejection(Base):
    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


def record_dict(record: ImportRecord) -> dict:
    data = {
        "id": record.id,
        "file_name": record.file_name,
        "sha256": record.sha256,
        "layout": record.layout,
        "username": record.username,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "file_date": record.file_date,
        "file_date_source": record.file_date_source,
        "status": record.status,
        "message": record.message,
    }
    data.update({name: getattr(record, name) for name in COUNTS})
    return data


class ImportLog:
    """Reads and writes import records; one short transaction per call."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def start(self, **fields) -> None:
        with self.sessions() as session:
            session.add(ImportRecord(status=RUNNING, message="", **{name: 0 for name in COUNTS}, **fields))
            session.commit()

    def finish(self, import_id: str, *, status: str, finished_at: datetime, message: str = "", **counts) -> None:
        with self.sessions() as session:
            record = session.get(ImportRecord, import_id)
            record.status = status
            record.finished_at = finished_at
            record.message = message
            for name, value in counts.items():
                setattr(record, name, value)
            session.commit()

    def add_rejections(self, import_id: str, rejections: Iterator[Rejection], batch: int = 2000) -> None:
        with self.sessions() as session:
            pending = []
            for rejection in rejections:
                pending.append(
                    {"import_id": import_id, "line": rejection.line, "column": rejection.column,
                     "value": rejection.value, "reason": rejection.reason}
                )
                if len(pending) >= batch:
                    session.execute(ImportRejection.__table__.insert(), pending)
                    pending = []
            if pending:
                session.execute(ImportRejection.__table__.insert(), pending)
            session.commit()

    def clean_import_of(self, sha256: str, layout: str) -> dict | None:
        """An earlier completed import of the same file that rejected nothing."""
        with self.sessions() as session:
            record = session.scalar(
                select(ImportRecord)
                .where(ImportRecord.sha256 == sha256, ImportRecord.layout == layout,
                       ImportRecord.status == COMPLETED, ImportRecord.rows_rejected == 0)
                .order_by(ImportRecord.started_at)
                .limit(1)
            )
            return record_dict(record) if record else None

    def get(self, import_id: str) -> dict | None:
        with self.sessions() as session:
            record = session.get(ImportRecord, import_id)
            return record_dict(record) if record else None

    def recent(self, limit: int = 50) -> list[dict]:
        with self.sessions() as session:
            records = session.scalars(select(ImportRecord).order_by(ImportRecord.started_at.desc()).limit(limit))
            return [record_dict(r) for r in records]

    def rejections(self, import_id: str) -> Iterator[Rejection]:
        with self.sessions() as session:
            result = session.execute(
                select(ImportRejection.line, ImportRejection.column, ImportRejection.value, ImportRejection.reason)
                .where(ImportRejection.import_id == import_id)
                .order_by(ImportRejection.line, ImportRejection.id)
                .execution_options(yield_per=1000)
            )
            for line, column, value, reason in result:
                yield Rejection(line, column, value, reason)
