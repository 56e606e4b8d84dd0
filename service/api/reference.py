"""Reference data agencies' systems code against: region codes, programmes, agencies."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE

from domain.reference import STRATEGIES, VILLAGE_LEVELS
from service.api import API_PREFIX
from service.api.schemas import ProgrammeCatalogueSchema, RegionQuerySchema, RegionSchema
from service.app import current_konvergen

blp = Blueprint(
    "reference",
    __name__,
    url_prefix=f"{API_PREFIX}/reference",
    description="Codes for villages, kecamatan, programmes, agencies and Inpres 4/2022 strategies.",
)


@blp.route("/regions", methods=["GET"])
# A misspelt filter would silently return everything; refuse unknown parameters instead.
@blp.arguments(RegionQuerySchema, location="query", unknown=RAISE)
@blp.response(200, RegionSchema(many=True))
def list_regions(query: dict):
    """List regions, optionally of one level and inside one parent

    ``level=kecamatan`` gives the kecamatan, ``level=village`` every desa and
    kelurahan, ``parent=<kecamatan code>`` the villages of that kecamatan.
    """
    level, parent = query.get("level"), query.get("parent")
    levels = VILLAGE_LEVELS if level == "village" else (level,)
    regions = [
        region
        for region in current_konvergen().regions.all()
        if (level is None or region.level in levels) and (parent is None or region.parent_code == parent)
    ]
    return sorted(regions, key=lambda region: region.code)


@blp.route("/programmes", methods=["GET"])
@blp.response(200, ProgrammeCatalogueSchema)
def list_programmes():
    """Programmes (with their strategy and the agencies that deliver them), agencies and strategies"""
    catalogue = current_konvergen().programmes
    return {
        "programmes": sorted(catalogue.programmes.values(), key=lambda p: p.code),
        "agencies": sorted(catalogue.agencies.values(), key=lambda a: a.code),
        "strategies": [{"code": code, "name": name} for code, name in STRATEGIES.items()],
    }
