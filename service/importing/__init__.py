"""Bringing P3KE/DTSEN extracts and agency lists into the case file, and saying what
was rejected and why. See ``importer`` for the flow, ``layouts`` for the columns."""

from service.importing.errors import ImportFileError
from service.importing.importer import Importer, ImportOptions, ImportSummary
from service.importing.layouts import HOUSEHOLDS, INTERVENTIONS, LAYOUTS, load_mapping

__all__ = [
    "HOUSEHOLDS",
    "INTERVENTIONS",
    "LAYOUTS",
    "ImportFileError",
    "ImportOptions",
    "ImportSummary",
    "Importer",
    "load_mapping",
]
