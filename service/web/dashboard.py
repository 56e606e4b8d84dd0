"""Beranda: the headline figures and charts of the monitoring projection.

Everything shown comes from ``monitoring_summary`` (counters kept up to date event by
event) and the follow-up projection, for the reader's scope narrowed by the chosen
kecamatan or village. Charts are drawn server-side (``charts``), as SVG.
"""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, render_template, request, url_for

from domain.household import CATEGORIES, EXTREME
from service.web import read_models
from service.web.charts import (
    ALERT_COLOUR,
    CATEGORY_COLOURS,
    SECOND_COLOUR,
    bar_chart,
    category_order,
    column_chart,
    stacked_chart,
)
from service.web.filters import AreaFilter, area_filter
from service.web.fragments import projections_position, rendered
from service.web.i18n import gettext as _
from service.web.i18n import long_date
from service.web.labels import CATEGORY, label
from service.web.support import current_actor, konvergen

bp = Blueprint("dashboard", __name__)


def _category_legend() -> dict:
    return {**CATEGORY, None: _("Not categorised")}


def headline(summary: dict, overdue: int) -> list[dict]:
    reach = summary["convergence"]["reached_by_agencies"]
    extreme_households = summary["progress"]["remaining_extreme"]
    extreme = next((c for c in summary["by_category"] if c["category"] == EXTREME), {"persons": 0})
    reached = sum(n for bucket, n in reach.items() if bucket != "0")
    return [
        {"key": "extreme_households", "label": _("Extremely poor households"), "value": extreme_households,
         "note": _("active, categorised miskin ekstrem now")},
        {"key": "extreme_persons", "label": _("Persons categorised extremely poor"), "value": extreme["persons"],
         "note": _("members of households categorised miskin ekstrem, graduated ones included")},
        {"key": "reached", "label": _("Reached by at least one agency"), "value": reached,
         "note": _("extremely poor households with a delivered intervention")},
        {"key": "unreached", "label": _("Reached by no agency"), "value": reach.get("0", 0),
         "note": _("extremely poor households with nothing delivered yet"), "alert": reach.get("0", 0) > 0},
        {"key": "graduated", "label": _("Graduated"), "value": summary["progress"]["graduated"],
         "note": _("%(percent)s%% of the way to zero", percent=summary["progress"]["percent_toward_zero"] or 0)},
        {"key": "overdue", "label": _("Overdue visits"), "value": overdue,
         "note": _("follow-ups past their due date"), "alert": overdue > 0},
    ]


def charts(summary: dict, filters: dict) -> dict:
    k = konvergen()
    programmes = k.programmes.programmes
    agencies = k.programmes.agencies

    area_rows, links = [], {}
    for area in summary["by_area"]:
        parts = {(key if key in CATEGORIES else None): v["households"] for key, v in area["categories"].items()}
        name = area.get("name") or area["code"]
        area_rows.append((name, parts))
        arg = "village" if area["level"] == "village" else "kecamatan"
        links[name] = url_for("web.dashboard.index", **{**filters, arg: area["code"]})
    by_area = stacked_chart(area_rows, category_order(), CATEGORY_COLOURS, _category_legend(), links)

    by_category = stacked_chart(
        [(label("category", c["category"]) if c["category"] in CATEGORIES else _("Not categorised"),
          {(c["category"] if c["category"] in CATEGORIES else None): c["households"]})
         for c in sorted(summary["by_category"], key=lambda c: category_order().index(c["category"] if c["category"] in CATEGORIES else None))],
        category_order(), CATEGORY_COLOURS, {},
    )

    reach = summary["convergence"]["reached_by_agencies"]
    bucket_names = {"0": _("No agency"), "1": _("1 agency"), "2": _("2 agencies"), "3+": _("3 or more agencies")}
    buckets = [(bucket_names[bucket], reach.get(bucket, 0)) for bucket in ("0", "1", "2", "3+")]
    convergence = bar_chart(buckets, colours={buckets[0][0]: ALERT_COLOUR})  # reached by none stands out

    delivered_by_programme: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # delivered, planned, value
    delivered_by_strategy: dict[str, int] = defaultdict(int)
    for row in summary["interventions"]:
        if row["status"] == "delivered":
            delivered_by_programme[row["programme"]][0] += row["interventions"]
            delivered_by_programme[row["programme"]][2] += row["value_idr"]
            delivered_by_strategy[row["strategy"]] += row["interventions"]
        elif row["status"] == "planned":
            delivered_by_programme[row["programme"]][1] += row["interventions"]
    programme_rows = sorted(delivered_by_programme.items(), key=lambda item: -item[1][0])
    by_programme = stacked_chart(
        [(programmes[code].name if code in programmes else code, {"delivered": v[0], "planned": v[1]}) for code, v in programme_rows],
        ["delivered", "planned"],
        {"delivered": CATEGORY_COLOURS["tidak_miskin"], "planned": SECOND_COLOUR},
        {"delivered": _("Delivered"), "planned": _("Planned")},
    )
    programme_values = {programmes[code].name if code in programmes else code: v[2] for code, v in programme_rows}
    by_strategy = bar_chart([(label("strategy", code), n) for code, n in sorted(delivered_by_strategy.items())])
    graduations = column_chart([(m["month"], m["households"]) for m in summary["graduations_by_month"]][-12:])
    return {
        "by_area": by_area,
        "by_category": by_category,
        "convergence": convergence,
        "by_programme": by_programme,
        "programme_values": programme_values,
        "by_strategy": by_strategy,
        "graduations": graduations,
        "graduations_all": summary["graduations_by_month"],
        "agencies": agencies,
    }


@bp.route("/")
def index():
    actor = current_actor()
    form: AreaFilter = area_filter()
    filters = form.values()
    key = (read_models.scope_of(actor), tuple(sorted(filters.items())), projections_position())
    body = rendered("dashboard", key, lambda: _body(actor, filters))
    if request.headers.get("HX-Target") == "dashboard-body":
        return body
    return render_template("dashboard/index.html", form=form, body=body, today=long_date(konvergen().clock.today()))


def _body(actor, filters: dict) -> str:
    summary = read_models.summary(actor, **filters)
    return render_template(
        "dashboard/_body.html",
        filters=filters,
        summary=summary,
        figures=headline(summary, read_models.overdue_count(actor, **filters)),
        charts=charts(summary, filters),
        area_level="village" if filters else "kecamatan",
    )
