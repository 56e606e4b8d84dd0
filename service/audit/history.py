"""A household's history for auditors: every event, who caused it, what it changed.

Field-level changes are not stored anywhere: they are computed by replaying the events
through the aggregate and comparing a flat view of the state before and after each one,
so they can never disagree with the events themselves. The same replay answers "what
did the record say at that instant" (``state_as_of``) and "what changed between two
instants" (``diff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable
from uuid import UUID

from domain.errors import InvalidValue, NotFound
from domain.household import Household
from service.access import SYSTEM, Actor
from service.audit import access_log as log
from service.clock import WIB
from service.households import Households, event_data, household_dict

BUSINESS_DATES = ("effective_on", "delivered_on", "completed_on", "left_on", "joined_on", "planned_on", "due_on")
AS_OF_HELP = "must be an ISO 8601 date or date-time, for instance 2025-06-30T23:59:59+07:00"


class NotYetRecorded(NotFound):
    """The household existed in the store only after the instant asked about."""

    code = "not_yet_recorded"


def parse_instant(value: Any, field: str = "as_of") -> datetime:
    """An instant from ISO 8601; naive times are WIB; a bare date means the end of that day."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return end_of_day(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                return end_of_day(date.fromisoformat(text))
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue(field, AS_OF_HELP) from None
    else:
        raise InvalidValue(field, AS_OF_HELP)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)


def end_of_day(day: date) -> datetime:
    """The last instant of a day in WIB: 'as of 30 June' includes everything on 30 June."""
    return datetime.combine(day + timedelta(days=1), time(), WIB) - timedelta(microseconds=1)


def wib_text(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S WIB")


def business_date(event: Any) -> date | None:
    """The date the fact is about (effective, delivered, left...), when the event has one."""
    for name in BUSINESS_DATES:
        value = getattr(event, name, None)
        if isinstance(value, date):
            return value
    return None


def plain(value: Any) -> Any:
    """JSON-ready copies of event data: dates as ISO text, ids as text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


# -- the flat view that changes are computed on ---------------------------------------

_MEMBER = ("name", "sex", "birth_date", "relationship", "status", "left_on", "left_reason")
_INTERVENTION = ("programme", "agency", "strategy", "planned_on", "value_idr", "notes", "status",
                 "delivered_on", "cancelled_reason")
_FOLLOW_UP = ("due_on", "assigned_to", "purpose", "status", "completed_on", "outcome", "cancelled_reason")


def flat_view(household: Household | None) -> dict[str, tuple[str, Any]]:
    """path -> (label, value) for every fact an auditor may ask about."""
    if household is None:
        return {}
    view: dict[str, tuple[str, Any]] = {
        "kk_number": ("KK", household.kk_number),
        "status": ("status", household.status),
        "head_nik": ("head NIK", household.head_nik),
    }
    for key in ("street", "rt", "rw", "village_code"):
        view[f"address.{key}"] = (key.replace("_", " "), household.address.get(key))
    location = household.location or {}
    view["location.lat"] = ("latitude", location.get("lat"))
    view["location.lon"] = ("longitude", location.get("lon"))
    current = household.current_categorisation or {}
    view["category"] = ("category", current.get("category"))
    view["desil"] = ("desil", current.get("desil"))
    view["category.source"] = ("category source", current.get("source"))
    view["category.effective_on"] = ("category effective", current.get("effective_on"))
    for nik, member in household.members.items():
        for key in _MEMBER:
            view[f"members.{nik}.{key}"] = (f"member {nik} {key.replace('_', ' ')}", member.get(key))
    for item_id, item in household.interventions.items():
        name = f"intervention {item['programme']}/{item['agency']} ({item_id[:8]})"
        for key in _INTERVENTION:
            view[f"interventions.{item_id}.{key}"] = (f"{name} {key.replace('_', ' ')}", item.get(key))
    for item_id, item in household.follow_ups.items():
        for key in _FOLLOW_UP:
            view[f"follow_ups.{item_id}.{key}"] = (f"follow-up {item_id[:8]} {key.replace('_', ' ')}", item.get(key))
    for part in ("graduation", "closure"):
        for key, value in (getattr(household, part) or {}).items():
            view[f"{part}.{key}"] = (f"{part} {key.replace('_', ' ')}", value)
    return view


def changes_between(before: dict, after: dict) -> list[dict]:
    """Field-level changes, in a stable order, each with a sentence like 'desil 3 -> 1'."""
    result = []
    for path in sorted(set(before) | set(after), key=_path_order(before, after)):
        old = before.get(path, (None, None))[1]
        label, new = after.get(path, (before.get(path, (path, None))[0], None))
        if old != new:
            result.append({
                "field": path,
                "label": label,
                "before": plain(old),
                "after": plain(new),
                "text": f"{label} {_shown(old)} -> {_shown(new)}",
            })
    return result


def _path_order(before: dict, after: dict) -> Callable[[str], tuple]:
    order = {path: index for index, path in enumerate(list(before) + [p for p in after if p not in before])}
    return lambda path: (order[path], path)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    return value.isoformat() if isinstance(value, date) else str(value)


# -- sentences ------------------------------------------------------------------------

SENTENCES = {
    "Registered": "Registered with KK {kk_number}; head {head}; address in {village}",
    "KKChanged": "Family card changed from {old_kk_number} to {new_kk_number} ({reason})",
    "IdentificationCorrected": "Identification corrected ({fields}): {reason}",
    "MemberAdded": "Member {name} ({nik}) added as {relationship}",
    "MemberDetailsCorrected": "Details of member {nik} corrected ({fields}): {reason}",
    "MemberLeft": "Member {name} ({nik}) left the household ({reason}) on {left_on}",
    "Categorised": "Categorised {category}{desil} by {source}, effective {effective_on}: {reason}",
    "InterventionPlanned": "{programme} by {agency} planned for {planned_on}{value}",
    "InterventionDelivered": "{programme} by {agency} delivered on {delivered_on}",
    "InterventionCancelled": "{programme} by {agency} cancelled: {reason}",
    "FollowUpScheduled": "Follow-up \"{purpose}\" scheduled for {due_on}, assigned to {assigned_to}",
    "FollowUpRescheduled": "Follow-up \"{purpose}\" moved to {due_on}, assigned to {assigned_to}: {reason}",
    "FollowUpCompleted": "Follow-up \"{purpose}\" completed on {completed_on}: {outcome}",
    "FollowUpCancelled": "Follow-up \"{purpose}\" cancelled: {reason}",
    "ReminderSent": "Reminder ({kind}) about follow-up \"{purpose}\" due {due_on} sent to {recipients}",
    "Graduated": "Graduated from extreme poverty, effective {effective_on}: {reason}",
    "Closed": "Closed ({reason}), effective {effective_on}",
    "Reopened": "Reopened: {reason}",
}


def sentence(event: Any, after: Household, village_name: Callable[[str], str]) -> tuple[str, dict]:
    """The English sentence template for an event and its parameters (for translation)."""
    kind = type(event).__name__
    data = event_data(event)
    params: dict[str, Any] = {k: _shown(v) for k, v in data.items() if not isinstance(v, (dict, list))}
    if kind == "Registered":
        params.update(head=data["head"]["name"], village=village_name(data["address"]["village_code"]))
    elif kind in ("IdentificationCorrected", "MemberDetailsCorrected"):
        params["fields"] = ", ".join(sorted(data["changes"]))
    elif kind == "MemberAdded":
        params.update({k: _shown(data["member"].get(k)) for k in ("name", "nik", "relationship")})
    elif kind == "MemberLeft":
        params["name"] = after.members.get(data["nik"], {}).get("name", "")
    elif kind == "Categorised":
        params["desil"] = f", desil {data['desil']}" if data.get("desil") is not None else ""
    elif kind.startswith("Intervention"):
        item = after.interventions.get(data["intervention_id"], {})
        params.update(programme=item.get("programme", "?"), agency=item.get("agency", "?"))
        value = data.get("value_idr")
        params["value"] = ", Rp " + f"{value:,}".replace(",", ".") if value else ""
    elif kind.startswith("FollowUp") or kind == "ReminderSent":
        item = after.follow_ups.get(data["follow_up_id"], {})
        params.update(purpose=item.get("purpose", ""), assigned_to=item.get("assigned_to", ""))
        if kind == "ReminderSent":
            params["recipients"] = ", ".join(map(str, data.get("recipients") or [])) or "nobody"
    template = SENTENCES.get(kind, kind)
    try:
        return template, params | {"text": template.format(**params)}
    except (KeyError, IndexError):  # an event shape this module does not know yet
        return kind, params | {"text": kind}


# -- the service --------------------------------------------------------------------


@dataclass
class _Replayed:
    event: Any
    before: dict
    after: dict
    state: Household


class HouseholdHistories:
    """Histories, states as of an instant and diffs, scoped and access-logged."""

    def __init__(self, households: Households, users, access: log.AccessLog):
        self.households = households
        self.users = users
        self.access = access

    # public use cases

    def history(self, actor: Actor, household_id: str) -> dict:
        household = self.households._load_readable(actor, household_id)
        self.access.record_read(actor, log.HISTORY, household.id)
        names = self._people()
        entries = [self._entry(step, names) for step in self._replay(household.id)]
        return {
            "household_id": str(household.id),
            "kk_number": household.kk_number,
            "version": household.version,
            "events": entries,
        }

    def state_as_of(self, actor: Actor, household_id: str, as_of: Any) -> dict:
        moment = parse_instant(as_of)
        current = self.households._load_readable(actor, household_id)
        version, recorded_at = self._version_at(current.id, moment)
        self.access.record_read(actor, log.STATE_AS_OF, current.id, as_of=moment.isoformat())
        state = household_dict(self.households._load(current.id, version=version), self.households.regions)
        state.update(as_of=moment, as_of_version=version, as_of_recorded_at=recorded_at, current_version=current.version)
        return state

    def diff(self, actor: Actor, household_id: str, since: Any, until: Any) -> dict:
        start, end = parse_instant(since, "from"), parse_instant(until, "to")
        if start > end:
            raise InvalidValue("from", "must not be later than to")
        current = self.households._load_readable(actor, household_id)
        self.access.record_read(actor, log.DIFF, current.id, since=start.isoformat(), until=end.isoformat())
        names = self._people()
        before: dict = {}
        after: dict = {}
        from_version = to_version = 0
        between = []
        for step in self._replay(current.id):
            if step.event.timestamp <= start:
                before, from_version = step.after, step.event.originator_version
            if step.event.timestamp <= end:
                after, to_version = step.after, step.event.originator_version
                if step.event.timestamp > start:
                    between.append(self._entry(step, names))
        return {
            "household_id": str(current.id),
            "from": start,
            "to": end,
            "from_version": from_version or None,
            "to_version": to_version or None,
            "changes": changes_between(before, after),
            "events": between,
        }

    # plumbing

    def _replay(self, household_id: UUID):
        state: Household | None = None
        before: dict = {}
        for event in self.households.events.get(household_id):
            state = event.mutate(state)
            after = flat_view(state)
            yield _Replayed(event, before, after, state)
            before = after

    def _version_at(self, household_id: UUID, moment: datetime) -> tuple[int, datetime]:
        """The last version recorded at or before the instant (newest first, so cheap for recent dates)."""
        for event in self.households.events.get(household_id, desc=True):
            if event.timestamp <= moment:
                return event.originator_version, event.timestamp
        raise NotYetRecorded(f"household {household_id} was not yet recorded at {wib_text(moment)}")

    def _entry(self, step: _Replayed, names: Callable[[str], dict]) -> dict:
        event = step.event
        template, params = sentence(event, step.state, self._village_name)
        text = params.pop("text")
        effective = business_date(event)
        return {
            "version": event.originator_version,
            "type": type(event).__name__,
            "recorded_at": event.timestamp,
            "recorded_at_wib": wib_text(event.timestamp),
            "effective_on": effective,
            **names(getattr(event, "actor", "") or ""),
            "source_ref": getattr(event, "source_ref", None),
            "summary": text,
            "summary_template": template,
            "summary_params": params,
            "changes": changes_between(step.before, step.after),
            "data": plain(event_data(event)),
        }

    def _village_name(self, code: str) -> str:
        region = self.households.regions.get(code)
        return f"{region.name} ({code})" if region else code

    def _people(self) -> Callable[[str], dict]:
        """username -> ``actor`` (the username), ``actor_name`` and ``actor_role``,
        looked up once per username per request; unknown users keep their username."""
        cache: dict[str, dict] = {}

        def lookup(username: str) -> dict:
            if username not in cache:
                if username == SYSTEM:
                    cache[username] = {"actor": username, "actor_name": "Konvergen", "actor_role": SYSTEM}
                else:
                    person = self.users.actor(username) if username else None
                    cache[username] = {
                        "actor": username,
                        "actor_name": (person.display_name or username) if person else username,
                        "actor_role": person.role if person else None,
                    }
            return cache[username]

        return lookup
