"""What can stop an import as a whole (as opposed to rejecting a row)."""

from __future__ import annotations


class ImportFileError(ValueError):
    """The file (or its options) cannot be imported at all; the message says why,
    with the line number when one line is to blame."""

