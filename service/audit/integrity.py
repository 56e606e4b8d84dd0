"""Tamper evidence you can check: seal periods, verify every chain and seal, export.

The recorders in ``chain_store`` chain each event as it is written. Here:

* ``seal_complete_periods`` closes every finished day (WIB) of the notification log
  with a seal over that day's link hashes, linked to the previous seal;
* ``verify`` recomputes every content hash, link hash and seal, and names the first
  broken link (household, version, what differs);
* ``export`` writes events, chain and seals in a form an auditor checks with
  ``sha256sum`` and ``printf`` alone (README: "For auditors: verifying an export").

Seals cover notification-id ranges: a seal's range runs from the previous seal's last
id (exclusive) to its own last id, and every chained event in it counts. The day only
decides where a range ends: the last event chained before midnight WIB.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.errors import DomainError
from service.access import ADMIN, AUDITOR, SYSTEM, Actor
from service.audit import access_log as log
from service.audit import verification
from service.audit.access_log import AccessLog
from service.audit.chain_rule import RULE_VERSION, ZERO_HASH, EventsDigest, content_hash, seal_hash
from service.audit.chain_store import Seal, supports_chain
from service.audit.verification import Verification
from service.clock import WIB, Clock
from service.errors import Forbidden

SEAL_GRACE = timedelta(minutes=5)  # lets a write that began just before midnight commit first


class IntegrityUnavailable(DomainError):
    """The event store keeps no chain (the in-memory store used by tests)."""

    code = "integrity_unavailable"


class SealRefused(DomainError):
    """Sealing would cover events that carry no chain link yet."""

    code = "seal_refused"


def _recorder(households) -> Any:
    recorder = households.recorder
    if not supports_chain(recorder):
        raise IntegrityUnavailable(
            "this event store keeps no hash chain (the in-memory store); "
            "tamper evidence needs SQLite or PostgreSQL"
        )
    return recorder


# -- sealing ---------------------------------------------------------------------------


def seal_complete_periods(households, now: datetime) -> list[Seal]:
    """Seals every finished WIB day that has unsealed events; returns the new seals.

    Safe to run concurrently: seals are numbered, and a second sealer that loses the
    race on a number re-reads and carries on from the winner's seal.
    """
    recorder = _recorder(households)
    created: list[Seal] = []
    while True:
        with recorder.chain_reader() as reader:
            seals = reader.seals()
            last = seals[-1] if seals else None
            after = last.last_id if last else 0
            earliest = reader.earliest_unsealed(after)
            if earliest is None:
                return created
            day = earliest.astimezone(WIB).date()
            if last is not None:
                # A row chained just before a seal was made rides with the next period.
                day = max(day, date.fromisoformat(last.period) + timedelta(days=1))
            end = datetime.combine(day + timedelta(days=1), time(), WIB)
            if end + SEAL_GRACE > now:
                return created
            last_id = reader.last_id_before(after, end)
            if last_id is None:  # pragma: no cover - earliest < end guarantees a row
                return created
            unchained = reader.count_unchained(last_id)
            if unchained:
                raise SealRefused(
                    f"{unchained} events up to notification {last_id} have no chain link; "
                    "run `konvergen audit backfill` first"
                )
            digest = EventsDigest()
            first_id = None
            for notification_id, link in reader.link_hashes(after, last_id):
                first_id = notification_id if first_id is None else first_id
                digest.add(link)
            prev = last.seal_hash if last else ZERO_HASH
            period = day.isoformat()
            seal = Seal(
                seq=(last.seq + 1) if last else 1,
                period=period,
                first_id=first_id or last_id,
                last_id=last_id,
                count=digest.count,
                events_digest=digest.hexdigest(),
                prev_seal_hash=prev,
                seal_hash=seal_hash(prev, period, first_id or last_id, last_id, digest.count, digest.hexdigest()),
                sealed_at=now.astimezone(timezone.utc),
            )
        try:
            recorder.insert_seal(seal)
        except IntegrityError:
            continue  # another sealer took this number; start again from its seal
        created.append(seal)


# -- verification ----------------------------------------------------------------------


def verify(households, now: datetime, *, workers: int = 1) -> Verification:
    """Recomputes every content hash, link and seal (see ``verification``)."""
    return verification.verify(
        _recorder(households), now, env=dict(households.env), name=households.name, workers=workers
    )


def backfill(households) -> int:
    """Chains events recorded before tamper evidence was enabled (a one-time upgrade)."""
    return _recorder(households).backfill()


# -- export ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    out_dir: str
    events: int
    households: int
    seals: int
    unsealed_events: int
    manifest_sha256: str


def _sha256_file(path: Path) -> str:
    digest = sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _event_type(topic: str) -> str:
    return topic.rpartition(".")[2].rpartition(":")[2]


def export(
    households,
    out_dir: str | os.PathLike,
    *,
    now: datetime,
    exported_by: str,
    household_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    verification: Verification | None = None,
) -> ExportResult:
    """Writes events, chain and seals for an auditor (layout in README)."""
    recorder = _recorder(households)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; export into a new directory")
    (out / "events").mkdir(parents=True, exist_ok=True)
    sums: list[tuple[str, str]] = []
    exported_ids: list[int] = []
    households_seen: set[str] = set()
    with recorder.chain_reader() as reader:
        seals = reader.seals()
        with (out / "events.jsonl").open("w", encoding="utf-8") as events_file, (
            out / "chain.tsv"
        ).open("w", encoding="utf-8") as chain_file:
            chain_file.write("notification_id\thousehold_id\tversion\ttopic\tcontent_sha256\tprev_hash\thash\n")
            for nid, oid, version, topic, state, content, prev, link, chained_at in reader.export_rows(
                household_id, since, until
            ):
                state = bytes(state)
                relative = f"events/{oid}/{version}.json"
                if oid not in households_seen:
                    (out / "events" / oid).mkdir(exist_ok=True)
                    households_seen.add(oid)
                (out / relative).write_bytes(state)
                sums.append((content_hash(state), relative))
                chain_file.write(f"{nid}\t{oid}\t{version}\t{topic}\t{content}\t{prev}\t{link}\n")
                events_file.write(json.dumps({
                    "notification_id": nid,
                    "household_id": oid,
                    "version": version,
                    "type": _event_type(topic),
                    "topic": topic,
                    "chained_at": reader.from_db_time(chained_at).isoformat(),
                    "file": relative,
                    "content_sha256": content,
                    "prev_hash": prev,
                    "hash": link,
                    "event": _readable(state),
                }, ensure_ascii=False) + "\n")
                exported_ids.append(nid)
        needed = _seals_covering(seals, exported_ids)
        (out / "seals").mkdir(exist_ok=True)
        with (out / "seals.tsv").open("w", encoding="utf-8") as seals_file:
            seals_file.write("seq\tperiod\tfirst_id\tlast_id\tcount\tevents_digest\tprev_seal_hash\tseal_hash\n")
            previous_last = 0
            for seal in seals:
                seals_file.write(
                    f"{seal.seq}\t{seal.period}\t{seal.first_id}\t{seal.last_id}\t{seal.count}\t"
                    f"{seal.events_digest}\t{seal.prev_seal_hash}\t{seal.seal_hash}\n"
                )
                if seal.seq in needed:
                    relative = f"seals/{seal.seq}.hashes"
                    with (out / relative).open("w", encoding="ascii") as hashes:
                        for _nid, link in reader.link_hashes(previous_last, seal.last_id):
                            hashes.write(link + "\n")
                    sums.append((_sha256_file(out / relative), relative))
                previous_last = seal.last_id
    sealed_through_id = seals[-1].last_id if seals else 0
    unsealed = sum(1 for nid in exported_ids if nid > sealed_through_id)
    file_sums = {name: _sha256_file(out / name) for name in ("events.jsonl", "chain.tsv", "seals.tsv")}
    sums.extend((digest, name) for name, digest in file_sums.items())
    (out / "SHA256SUMS").write_text("".join(f"{digest}  {name}\n" for digest, name in sums), encoding="ascii")
    manifest = {
        "format": "konvergen-audit-export",
        "rule_version": RULE_VERSION,
        "exported_at": now.astimezone(timezone.utc).isoformat(),
        "exported_by": exported_by,
        "filters": {
            "household_id": household_id,
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
        },
        "events": len(exported_ids),
        "households": len(households_seen),
        "sealed_through": seals[-1].period if seals else None,
        "sealed_through_notification_id": sealed_through_id,
        "last_seal_hash": seals[-1].seal_hash if seals else None,
        "unsealed_events": unsealed,
        "verification_at_export": None if verification is None else {
            "ok": verification.ok,
            "problems": verification.problem_count,
            "first_problem": verification.first_problem.message if verification.first_problem else None,
        },
        "files": {"SHA256SUMS": _sha256_file(out / "SHA256SUMS"), **file_sums},
        "rules": {
            "content_sha256": "sha256 of the file events/<household_id>/<version>.json (the stored bytes)",
            "hash": "sha256 of prev_hash, household_id, version, topic, content_sha256 joined by newlines",
            "prev_hash": "the hash of the household's previous version; 64 zeros for version 1",
            "events_digest": "sha256 of the seal's link hashes in notification order, one per line",
            "seal_hash": "sha256 of prev_seal_hash, period, first_id, last_id, count, events_digest joined by newlines",
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    manifest_sha = _sha256_file(out / "manifest.json")
    (out / "manifest.json.sha256").write_text(f"{manifest_sha}  manifest.json\n", encoding="ascii")
    return ExportResult(str(out), len(exported_ids), len(households_seen), len(needed), unsealed, manifest_sha)


def _seals_covering(seals: list[Seal], notification_ids: list[int]) -> set[int]:
    needed: set[int] = set()
    index, previous_last = 0, 0
    for nid in notification_ids:  # ascending
        while index < len(seals) and nid > seals[index].last_id:
            previous_last = seals[index].last_id
            index += 1
        if index < len(seals) and nid > previous_last:
            needed.add(seals[index].seq)
    return needed


def _readable(state: bytes) -> Any:
    """The event as JSON for reading; the exact bytes are in the event's own file."""
    try:
        return json.loads(state)
    except ValueError:
        return None


# -- the use cases, with roles and the access log ------------------------------------

VERIFIERS = frozenset({AUDITOR, ADMIN, SYSTEM})
OPERATORS = frozenset({ADMIN, SYSTEM})


class Integrity:
    """Verify, seal, export and backfill, each for the roles allowed to, and logged."""

    def __init__(self, households, access: AccessLog, clock: Clock):
        self.households = households
        self.access = access
        self.clock = clock

    def verify(self, actor: Actor, *, workers: int = 1) -> Verification:
        """Verifies everything, then seals the finished periods if the record is sound.

        Sealing only after a clean verification means a seal never vouches for a
        record that was already broken when it was made.
        """
        _require(actor, VERIFIERS, "verify the records")
        now = self.clock.now()
        result = verify(self.households, now, workers=workers)
        if result.ok:
            _count_in(result, seal_complete_periods(self.households, now))
        self.access.record(actor, log.VERIFICATION, None, ok=result.ok, problems=result.problem_count)
        return result

    def seals(self, actor: Actor) -> list[dict]:
        _require(actor, VERIFIERS, "read the seals")
        with _recorder(self.households).chain_reader() as reader:
            return [asdict(seal) for seal in reader.seals()]

    def seal(self, actor: Actor) -> tuple[Verification, list[Seal]]:
        _require(actor, OPERATORS, "seal periods")
        now = self.clock.now()
        result = verify(self.households, now)
        if not result.ok:
            return result, []
        return result, seal_complete_periods(self.households, now)

    def export(
        self,
        actor: Actor,
        out_dir: str | os.PathLike,
        *,
        household_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[ExportResult, Verification]:
        """Exports after a verification (and sealing, when sound); both go in the access log."""
        _require(actor, VERIFIERS, "export the records")
        if household_id is not None:
            household_id = str(self.households._load_readable(actor, household_id).id)
        checked = self.verify(actor)
        result = export(
            self.households, out_dir, now=self.clock.now(), exported_by=actor.username,
            household_id=household_id, since=since, until=until, verification=checked,
        )
        self.access.record(
            actor, log.EXPORT, household_id,
            since=since.isoformat() if since else None, until=until.isoformat() if until else None,
            events=result.events, manifest_sha256=result.manifest_sha256,
        )
        return result, checked

    def backfill(self, actor: Actor) -> int:
        _require(actor, OPERATORS, "backfill the chain")
        return backfill(self.households)


def _count_in(result: Verification, new_seals: list[Seal]) -> None:
    """New seals cover finished days, whose rows the verification just recomputed."""
    if new_seals:
        result.seals_checked += len(new_seals)
        result.sealed_through = new_seals[-1].period
        result.sealed_through_id = new_seals[-1].last_id
        result.last_seal_hash = new_seals[-1].seal_hash
        result.unsealed_events = max(0, result.unsealed_events - sum(seal.count for seal in new_seals))


def _require(actor: Actor, roles: frozenset, what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"{actor.username} ({actor.role}) may not {what}")
