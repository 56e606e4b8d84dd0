"""Human words for the codes the domain stores (categories, reasons, statuses...).

Codes stay codes in events and the API; only the web UI turns them into words, in the
user's language. An unknown code is shown as it is rather than hidden.
"""

from __future__ import annotations

from flask import g

from domain.household import CATEGORIES, CLOSURE_REASONS, DEPARTURE_REASONS, KK_CHANGE_REASONS, SOURCES
from domain.identity import RELATIONSHIPS
from service.web.i18n import lazy_gettext as _l

CATEGORY = {
    "miskin_ekstrem": _l("Extremely poor"),
    "miskin": _l("Poor"),
    "rentan": _l("Vulnerable"),
    "tidak_miskin": _l("Not poor"),
}
SOURCE = {
    "p3ke_dtsen_import": _l("P3KE/DTSEN import"),
    "field_verification": _l("Field verification"),
    "village_deliberation": _l("Village deliberation (musdes)"),
    "agency_assessment": _l("Agency assessment"),
}
RELATIONSHIP = {
    "kepala_keluarga": _l("Head of household"),
    "suami": _l("Husband"),
    "istri": _l("Wife"),
    "anak": _l("Child"),
    "menantu": _l("Child-in-law"),
    "cucu": _l("Grandchild"),
    "orang_tua": _l("Parent"),
    "mertua": _l("Parent-in-law"),
    "famili_lain": _l("Other relative"),
    "lainnya": _l("Other"),
}
SEX = {"L": _l("Male"), "P": _l("Female")}
DEPARTURE = {"moved": _l("Moved away"), "died": _l("Died"), "married_out": _l("Married out")}
CLOSURE = {
    "moved_away": _l("Moved away"),
    "all_deceased": _l("All members deceased"),
    "duplicate": _l("Duplicate of another KK"),
}
KK_CHANGE = {
    "pecah_kk": _l("Family split (pecah KK)"),
    "reissue": _l("Card reissued"),
    "correction": _l("Correction of a wrong number"),
}
HOUSEHOLD_STATUS = {"active": _l("Active"), "graduated": _l("Graduated"), "closed": _l("Closed")}
INTERVENTION_STATUS = {"planned": _l("Planned"), "delivered": _l("Delivered"), "cancelled": _l("Cancelled")}
FOLLOW_UP_STATUS = {
    "open": _l("Open"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "overdue": _l("Overdue"),
}
MEMBER_STATUS = {"present": _l("Present"), "left": _l("Left")}
STRATEGY = {
    "pengurangan_beban": _l("Reducing the spending burden"),
    "peningkatan_pendapatan": _l("Raising income"),
    "penurunan_kantong_kemiskinan": _l("Reducing pockets of poverty"),
}
ROLE = {
    "case_worker": _l("Case worker"),
    "agency_officer": _l("Agency officer"),
    "supervisor": _l("Kecamatan supervisor"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
    "system": _l("System"),
}

# Every code the domain knows has a word: a test compares these with the domain.
DOMAIN_CODES = {
    "category": (CATEGORY, CATEGORIES),
    "source": (SOURCE, SOURCES),
    "relationship": (RELATIONSHIP, RELATIONSHIPS),
    "departure": (DEPARTURE, DEPARTURE_REASONS),
    "closure": (CLOSURE, CLOSURE_REASONS),
    "kk_change": (KK_CHANGE, KK_CHANGE_REASONS),
}

TABLES = {
    "category": CATEGORY,
    "source": SOURCE,
    "relationship": RELATIONSHIP,
    "sex": SEX,
    "departure": DEPARTURE,
    "closure": CLOSURE,
    "kk_change": KK_CHANGE,
    "household_status": HOUSEHOLD_STATUS,
    "intervention_status": INTERVENTION_STATUS,
    "follow_up_status": FOLLOW_UP_STATUS,
    "member_status": MEMBER_STATUS,
    "strategy": STRATEGY,
    "role": ROLE,
}


def label(kind: str, code: str | None) -> str:
    """The word for ``code`` in the current language; the code itself if unknown.

    Kept per request: a list of fifty households asks for the same few words often.
    """
    if code is None:
        return ""
    words = g.setdefault("_konvergen_labels", {})
    key = (kind, code)
    if key not in words:
        word = TABLES[kind].get(code)
        words[key] = str(word) if word is not None else str(code)
    return words[key]


def choices(kind: str, codes=None) -> list[tuple[str, str]]:
    table = TABLES[kind]
    return [(code, str(table[code])) for code in (codes if codes is not None else table)]
