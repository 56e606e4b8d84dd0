"""Domain refusals in the user's language.

The domain speaks English (its messages are also the API's). The web UI translates the
common ones by matching the message's shape; the values inside (dates, codes) are kept.
Anything not matched falls back to the English text, which is still clear.
"""

from __future__ import annotations

import re
from datetime import date


from domain.errors import DomainError, DuplicateKK, InvalidValue
from service.web.i18n import gettext as _
from service.web.i18n import lazy_gettext as _l
from service.web.i18n import long_date

# (pattern over the English reason, translated template with the pattern's groups)
_REASONS: list[tuple[re.Pattern, object]] = [
    (re.compile(p), t)
    for p, t in [
        (r"^must be exactly 16 digits$", _l("must be exactly 16 digits")),
        (r"^starts with (?P<code>\d+), which is not a province code$",
         _l("starts with %(code)s, which is not a province code")),
        (r"^date part (?P<part>\d+) is not a real date$",
         _l("the date part %(part)s is not a real date")),
        (r"^date part does not match sex P",
         _l("the date part does not match the sex: for women the day is written plus 40")),
        (r"^date part does not match sex L",
         _l("the date part does not match the sex: for men the day is written without 40 added")),
        (r"^must be L or P$", _l("choose male or female")),
        (r"^must not be empty$", _l("This field is required.")),
        (r"^must be at most (?P<n>\d+) characters$", _l("must be at most %(n)s characters")),
        (r"^must be a date$", _l("must be a date")),
        (r"^(?P<date>\d{4}-\d{2}-\d{2}) is in the future$", _l("%(date)s is in the future")),
        (r"^(?P<date>\d{4}-\d{2}-\d{2}) is in the past$", _l("%(date)s is in the past")),
        (r"^must be a number from 1 to 999$", _l("must be a number from 1 to 999")),
        (r"^'?(?P<code>[^']*)'? is not a known village code$", _l("%(code)s is not a known village")),
        (r"^'?(?P<code>[^']*)'? is not a known kecamatan code$", _l("%(code)s is not a known kecamatan")),
        (r"^must be a number$", _l("must be a number")),
        (r"^must lie within Indonesia", _l("must lie within Indonesia")),
        (r"^must be a whole number of Rupiah$", _l("must be a whole number of Rupiah")),
        (r"^must not be negative$", _l("must not be negative")),
        (r"^must be a whole number from 1 to 10$", _l("must be a whole number from 1 to 10")),
        (r"^nothing to correct", _l("nothing to correct: every value given is already recorded")),
        (r"^is the household's current KK$", _l("is already this household's KK")),
        (r"^already appears in this household$", _l("already appears in this household")),
        (r"^appears twice in this household$", _l("appears twice in this household")),
        (r"^a household has one head", _l("a household has one head; choose another relationship")),
        (r"^the head's relationship stays", _l("the head's relationship stays head of household")),
        (r"^is already the follow-up's due date$", _l("is already the follow-up's due date")),
        (r"^no user (?P<user>.+)$", _l("there is no user %(user)s")),
        (r"^a household cannot duplicate itself$", _l("a household cannot be a duplicate of itself")),
        (r"^only applies when the reason is duplicate$", _l("only applies when the reason is duplicate")),
        (r"^'?(?P<agency>[^']*)'? does not deliver '?(?P<programme>[^' ]*)'?",
         _l("%(agency)s does not deliver %(programme)s")),
        (r"^'?(?P<code>[^']*)'? is not a known programme code$", _l("%(code)s is not a known programme")),
        (r"^'?(?P<code>[^']*)'? is not a known agency code$", _l("%(code)s is not a known agency")),
        (r"^must be one of ", _l("choose one of the options")),
        (r"^is not a cursor this list gave out$", _l("this page link is not valid; start from the first page")),
        # Whole messages of state refusals and missing items.
        (r"^the household is closed", _l("The household is closed; reopen it before changing it.")),
        (r"^intervention \S+ is already delivered", _l("This intervention was already delivered; that is final.")),
        (r"^intervention \S+ is already cancelled", _l("This intervention was already cancelled; that is final.")),
        (r"^follow-up \S+ is already completed", _l("This follow-up was already completed.")),
        (r"^follow-up \S+ is already cancelled", _l("This follow-up was already cancelled.")),
        (r"^the household has already graduated", _l("The household has already graduated.")),
        (r"^only a household once categorised miskin ekstrem",
         _l("Only a household once categorised as extremely poor can graduate.")),
        (r"^only a closed household can be reopened", _l("Only a closed household can be reopened.")),
        (r"^member \S+ has already left", _l("This member has already left.")),
        (r"^the head of household cannot leave",
         _l("The head of household cannot leave; close the household or change its KK instead.")),
        (r"^KK (?P<kk>\d+) is already registered$", _l("KK %(kk)s is already registered")),
        (r"^no member with NIK", _l("There is no such member in this household.")),
        (r"^no intervention ", _l("There is no such intervention in this household.")),
        (r"^no follow-up ", _l("There is no such follow-up in this household.")),
    ]
]


def _localise(values: dict) -> dict:
    """ISO dates inside a message are shown the way the rest of the page shows dates."""
    out = {}
    for key, value in values.items():
        if key == "date":
            try:
                value = long_date(date.fromisoformat(value))
            except ValueError:
                pass
        out[key] = value
    return out


def translate_reason(text: str) -> str:
    for pattern, template in _REASONS:
        match = pattern.match(text)
        if match:
            values = _localise(match.groupdict())
            return str(template) % values if values else str(template)
    return text


def error_message(error: DomainError) -> str:
    """The refusal as one sentence for a flash message or a form's top error."""
    if isinstance(error, InvalidValue):
        return translate_reason(error.reason)
    if isinstance(error, DuplicateKK):
        return _("KK %(kk)s is already registered", kk=error.kk_number)
    return translate_reason(error.message)
