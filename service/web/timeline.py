"""The household timeline: every recorded event as "when, who, what" in plain words.

Works on ``event_dict`` output (the history use case), never on aggregates or event
objects, so the words can be checked against exactly what an auditor replays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterator

from service.web.i18n import gettext as _
from service.web.i18n import long_date, rupiah
from service.web.labels import label


@dataclass(frozen=True)
class Names:
    """Reference names the summaries need: programmes, agencies, villages, users."""

    programmes: dict[str, str]
    agencies: dict[str, str]
    villages: dict[str, str]
    users: dict[str, str]

    def user(self, username: str | None) -> str:
        if not username:
            return ""
        return self.users.get(username, username)


def _d(value) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return long_date(value)


def summary(event: dict, names: Names, programme_of: dict[str, str] | None = None) -> str:
    """One line saying what happened, in the user's language.

    ``programme_of`` maps intervention ids seen earlier in the history to programme
    names, so a delivery says what was delivered.
    """
    programme_of = programme_of or {}
    data = event["data"]
    kind = event["type"]
    if kind == "Registered":
        return _("Registered with KK %(kk)s; head of household %(name)s",
                 kk=data["kk_number"], name=data["head"]["name"])
    if kind == "KKChanged":
        return _("Family card changed from %(old)s to %(new)s (%(reason)s)",
                 old=data["old_kk_number"], new=data["new_kk_number"], reason=label("kk_change", data["reason"]))
    if kind == "IdentificationCorrected":
        changes = data["changes"]
        parts = []
        if "address" in changes:
            address = changes["address"]
            parts.append(_("address: %(street)s RT %(rt)s/RW %(rw)s, %(village)s", street=address.get("street") or "-",
                           rt=address["rt"], rw=address["rw"],
                           village=names.villages.get(address["village_code"], address["village_code"])))
        if "location" in changes:
            location = changes["location"]
            parts.append(_("coordinates removed") if location is None
                         else _("coordinates %(lat)s, %(lon)s", lat=location["lat"], lon=location["lon"]))
        if "head_name" in changes:
            parts.append(_("head's name: %(name)s", name=changes["head_name"]))
        return _("Identification corrected (%(changes)s): %(reason)s", changes="; ".join(parts), reason=data["reason"])
    if kind == "MemberAdded":
        member = data["member"]
        return _("Member added: %(name)s (%(relationship)s)", name=member["name"],
                 relationship=label("relationship", member.get("relationship")))
    if kind == "MemberDetailsCorrected":
        fields = ", ".join(sorted(data["changes"]))
        return _("Member %(nik)s corrected (%(fields)s): %(reason)s", nik=data["nik"], fields=fields, reason=data["reason"])
    if kind == "MemberLeft":
        return _("Member %(nik)s left on %(date)s: %(reason)s", nik=data["nik"], date=_d(data["left_on"]),
                 reason=label("departure", data["reason"]))
    if kind == "Categorised":
        desil = _(", desil %(desil)s", desil=data["desil"]) if data.get("desil") else ""
        return _("Categorised %(category)s%(desil)s by %(source)s, effective %(date)s",
                 category=label("category", data["category"]), desil=desil,
                 source=label("source", data["source"]), date=_d(data["effective_on"]))
    if kind == "InterventionPlanned":
        value = _(" worth %(value)s", value=rupiah(data["value_idr"])) if data.get("value_idr") is not None else ""
        return _("Intervention planned: %(programme)s by %(agency)s for %(date)s%(value)s",
                 programme=names.programmes.get(data["programme"], data["programme"]),
                 agency=names.agencies.get(data["agency"], data["agency"]), date=_d(data["planned_on"]), value=value)
    if kind == "InterventionDelivered":
        return _("Intervention delivered: %(programme)s on %(date)s",
                 programme=programme_of.get(data["intervention_id"], ""), date=_d(data["delivered_on"]))
    if kind == "InterventionCancelled":
        return _("Intervention cancelled: %(programme)s: %(reason)s",
                 programme=programme_of.get(data["intervention_id"], ""), reason=data["reason"])
    if kind == "FollowUpScheduled":
        return _("Visit scheduled for %(date)s, assigned to %(user)s: %(purpose)s", date=_d(data["due_on"]),
                 user=names.user(data["assigned_to"]), purpose=data["purpose"])
    if kind == "FollowUpRescheduled":
        return _("Visit moved to %(date)s, assigned to %(user)s: %(reason)s", date=_d(data["due_on"]),
                 user=names.user(data["assigned_to"]), reason=data["reason"])
    if kind == "FollowUpCompleted":
        return _("Visit done on %(date)s: %(outcome)s", date=_d(data["completed_on"]), outcome=data["outcome"])
    if kind == "FollowUpCancelled":
        return _("Visit cancelled: %(reason)s", reason=data["reason"])
    if kind == "ReminderSent":
        recipients = ", ".join(names.user(r) for r in data.get("recipients") or [])
        if data.get("kind") == "escalation":
            return _("Overdue visit due %(date)s escalated to %(recipients)s", date=_d(data["due_on"]), recipients=recipients)
        return _("Reminder about the visit due %(date)s sent to %(recipients)s", date=_d(data["due_on"]), recipients=recipients)
    if kind == "Graduated":
        return _("Graduated from extreme poverty, effective %(date)s: %(reason)s", date=_d(data["effective_on"]),
                 reason=data["reason"])
    if kind == "Closed":
        reason = label("closure", data["reason"])
        if data.get("duplicate_of"):
            reason = _("%(reason)s %(kk)s", reason=reason, kk=data["duplicate_of"])
        return _("Case file closed, effective %(date)s: %(reason)s", date=_d(data["effective_on"]), reason=reason)
    if kind == "Reopened":
        return _("Case file reopened: %(reason)s", reason=data["reason"])
    return kind


def sentences(history: list[dict], names: Names) -> Iterator[tuple[dict, str]]:
    """Each event, oldest first, with its sentence; an intervention is named by the
    programme it was planned under, so its later events are told with that name."""
    programme_of: dict[str, str] = {}
    for event in history:
        if event["type"] == "InterventionPlanned":
            code = event["data"]["programme"]
            programme_of[event["data"]["intervention_id"]] = names.programmes.get(code, code)
        yield event, summary(event, names, programme_of)


def timeline(history: list[dict], names: Names) -> list[dict]:
    """Newest first, as the household page shows it."""
    entries = [
        {
            "version": event["version"],
            "type": event["type"],
            "recorded_at": event["recorded_at"],
            "actor": names.user(event["actor"]),
            "summary": sentence,
        }
        for event, sentence in sentences(history, names)
    ]
    entries.reverse()
    return entries
