"""The filters shared by the list, the map, the dashboard and the exports.

Kecamatan and village choices are limited to what the reader may see, so a filter can
only narrow the reader's scope, never widen it (the read models apply the scope too).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, SearchField

from domain.household import CATEGORIES
from service.access import Actor
from service.web.forms import ChoiceInput
from service.web.i18n import lazy_gettext as _l
from service.web.labels import choices
from service.web.support import current_actor, konvergen

bp = Blueprint("filters", __name__, url_prefix="/filters")

ANY = ("", _l("All"))


def kecamatan_choices(actor: Actor) -> list[tuple[str, str]]:
    k = konvergen()
    scope = k.households.access.read_scope(actor)
    if scope.everything:
        areas = k.regions.kecamatan()
    else:
        codes = set(scope.kecamatan) | {k.regions.kecamatan_of(v) for v in scope.villages}
        areas = [k.regions.get(code) for code in codes if code and k.regions.get(code)]
    return sorted(((a.code, a.name) for a in areas), key=lambda c: c[1])


def village_choices_in(actor: Actor, kecamatan: str | None) -> list[tuple[str, str]]:
    """Villages of one kecamatan the reader may see; a case worker's own without one."""
    k = konvergen()
    scope = k.households.access.read_scope(actor)
    if kecamatan:
        villages = [v for v in k.regions.villages(kecamatan) if scope.allows(v.code, kecamatan)]
    elif not scope.everything and not scope.kecamatan:
        villages = [k.regions.get(code) for code in scope.villages if k.regions.get(code)]
    else:
        villages = []
    return sorted(((v.code, v.name) for v in villages), key=lambda c: c[1])


class AreaFilter(FlaskForm):
    """GET forms: bookmarkable, no CSRF token (they change nothing)."""

    class Meta:
        csrf = False

    kecamatan = ChoiceInput(_l("Kecamatan"))
    village = ChoiceInput(_l("Village"))

    def setup(self, actor: Actor) -> "AreaFilter":
        self.kecamatan.choices = [ANY, *kecamatan_choices(actor)]
        if len(self.kecamatan.choices) == 2 and not self.kecamatan.data:
            self.kecamatan.data = self.kecamatan.choices[1].value  # one kecamatan: it is the view
        self.village.choices = [ANY, *village_choices_in(actor, self.kecamatan.data)]
        return self

    def values(self) -> dict:
        """The valid filters; an invalid one (edited URL) is dropped, not obeyed."""
        self.validate()
        values = {}
        for name in ("kecamatan", "village"):
            field = getattr(self, name)
            if field.data and not field.errors:
                values[name] = field.data
        if "village" in values and "kecamatan" not in values:
            values["kecamatan"] = konvergen().regions.kecamatan_of(values["village"])
        return values


class HouseholdFilter(AreaFilter):
    q = SearchField(_l("Search by KK, NIK or name"))
    category = ChoiceInput(_l("Category"))
    overdue = BooleanField(_l("Has an overdue visit"))
    without_delivery = BooleanField(_l("No intervention delivered"))

    def setup(self, actor: Actor) -> "HouseholdFilter":
        super().setup(actor)
        self.category.choices = [ANY, *choices("category", CATEGORIES)]
        return self

    def values(self) -> dict:
        values = super().values()
        if self.q.data and self.q.data.strip():
            values["q"] = self.q.data.strip()[:200]
        if self.category.data and not self.category.errors:
            values["category"] = self.category.data
        if self.overdue.data:
            values["overdue"] = True
        if self.without_delivery.data:
            values["without_delivery"] = True
        return values


def area_filter(form_class=AreaFilter):
    return form_class(request.args, meta={"csrf": False}).setup(current_actor())


@bp.route("/villages")
def village_options():
    """The village select's options for a kecamatan (htmx swaps them in)."""
    actor = current_actor()
    kecamatan = request.args.get("kecamatan") or None
    if kecamatan and kecamatan not in {code for code, _ in kecamatan_choices(actor)}:
        kecamatan = None
    return render_template("filters/village_options.html", villages=village_choices_in(actor, kecamatan))
