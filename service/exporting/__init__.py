"""Exports of the register as spreadsheets, honouring the reader's role and scope.

The households export is written in the importer's own households layout, so a file
exported from one Konvergen imports into another to the same register.
"""

from service.exporting.registers import export_households, export_interventions, iter_households
from service.exporting.tables import FORMATS, TableFormatError, check_table_path, format_of

__all__ = ["FORMATS", "TableFormatError", "check_table_path", "export_households", "export_interventions",
           "format_of", "iter_households"]
