"""What a reminder says, in the recipient's language (Indonesian by default).

Rendered once, when the reminder is enqueued, so every channel and every retry
delivers the same words and an administrator can read exactly what went out.
"""

from __future__ import annotations

from datetime import date

from service.scheduler.rules import BEFORE, DUE, ESCALATION, OVERDUE, DueDigest, OpenFollowUp

TITLES = {
    "id": {
        BEFORE: "Kunjungan besok {due}: {purpose}",
        DUE: "Kunjungan hari ini: {purpose}",
        OVERDUE: "Kunjungan terlambat sejak {due}: {purpose}",
        ESCALATION: "Eskalasi: kunjungan terlambat {days} hari di {village}",
        "digest": "Ringkasan mingguan: {count} kunjungan terlambat di Kecamatan {kecamatan}",
    },
    "en": {
        BEFORE: "Visit due {due}: {purpose}",
        DUE: "Visit due today: {purpose}",
        OVERDUE: "Visit overdue since {due}: {purpose}",
        ESCALATION: "Escalation: visit {days} days overdue in {village}",
        "digest": "Weekly digest: {count} overdue visits in Kecamatan {kecamatan}",
    },
}
BODIES = {
    "id": {
        BEFORE: "Kunjungan ke rumah tangga di {village} dijadwalkan {due}. Tujuan: {purpose}.",
        DUE: "Kunjungan ke rumah tangga di {village} dijadwalkan hari ini, {due}. Tujuan: {purpose}.",
        OVERDUE: "Kunjungan ke rumah tangga di {village} dijadwalkan {due} dan belum dicatat selesai. Tujuan: {purpose}.",
        ESCALATION: "Kunjungan oleh {worker} ke rumah tangga di {village}, dijadwalkan {due}, "
        "sudah terlambat {days} hari. Tujuan: {purpose}.",
        "digest_line": "- {worker}: {count} kunjungan terlambat (paling lama sejak {oldest})",
    },
    "en": {
        BEFORE: "A visit to a household in {village} is due on {due}. Purpose: {purpose}.",
        DUE: "A visit to a household in {village} is due today, {due}. Purpose: {purpose}.",
        OVERDUE: "A visit to a household in {village} was due on {due} and is not recorded as done. Purpose: {purpose}.",
        ESCALATION: "A visit by {worker} to a household in {village}, due on {due}, "
        "is {days} days overdue. Purpose: {purpose}.",
        "digest_line": "- {worker}: {count} overdue visits (the oldest due {oldest})",
    },
}


def _language(language: str | None) -> str:
    return language if language in TITLES else "id"


def reminder_text(kind: str, follow_up: OpenFollowUp, *, today: date, village_name: str, language: str | None) -> tuple[str, str]:
    """(title, body) of a reminder or escalation."""
    language = _language(language)
    values = {
        "due": follow_up.due_on.isoformat(),
        "purpose": follow_up.purpose or "-",
        "village": village_name,
        "worker": follow_up.assigned_to,
        "days": (today - follow_up.due_on).days,
    }
    title = TITLES[language][kind].format(**values)
    return title[:300], BODIES[language][kind].format(**values)


def digest_text(digest: DueDigest, *, kecamatan_name: str, language: str | None) -> tuple[str, str]:
    language = _language(language)
    title = TITLES[language]["digest"].format(count=digest.overdue_count, kecamatan=kecamatan_name)
    lines = [
        BODIES[language]["digest_line"].format(worker=worker, count=len(items), oldest=items[0].due_on.isoformat())
        for worker, items in digest.overdue_by_worker
    ]
    return title[:300], "\n".join(lines)
