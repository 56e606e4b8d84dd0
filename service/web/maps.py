"""Peta: households with coordinates as points coloured by category (Leaflet).

The page itself carries no data: the script fetches ``points.json`` with the same
filters as the household list, within the reader's scope, and draws the points on a
canvas layer. Map tiles are decoration: when they cannot load (offline in the field),
the points still show on a plain background.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, url_for

from domain.household import CATEGORIES
from service.web import read_models
from service.web.charts import CATEGORY_COLOURS
from service.web.filters import HouseholdFilter, area_filter
from service.web.labels import label
from service.web.support import current_actor

bp = Blueprint("maps", __name__, url_prefix="/map")

MAX_POINTS = 5000  # one query on the register view; more would stall a phone's browser


@bp.route("/")
def index():
    form = area_filter(HouseholdFilter)
    filters = form.values()
    legend = [(CATEGORY_COLOURS[c], label("category", c)) for c in CATEGORIES]
    return render_template(
        "maps/index.html",
        form=form,
        legend=legend,
        points_url=url_for("web.maps.points", **filters),
        tiles=current_app.config.get("KONVERGEN_MAP_TILES") or "",
    )


@bp.route("/points.json")
def points():
    """[[lat, lon, category index, household id, head's name, village], ...]: compact for phones."""
    filters = area_filter(HouseholdFilter).values()
    result = read_models.map_points(current_actor(), limit=MAX_POINTS, **filters)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return jsonify(
        {
            "points": [
                [round(p["lat"], 5), round(p["lon"], 5), order.get(p["category"], len(CATEGORIES)), p["id"], p["head_name"],
                 p["village_name"]]
                for p in result["items"]
            ],
            "colours": [CATEGORY_COLOURS[c] for c in CATEGORIES] + [CATEGORY_COLOURS[None]],
            "truncated": result["truncated"],
            "household_url": url_for("web.households.show", household_id="HOUSEHOLD_ID"),
        }
    )
