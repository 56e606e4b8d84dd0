"""Pass 2 of an import for one share of the staged households.

One process imports every household as share 0 of 1. A large households file on a
database other processes can open is split (``parallel``): each process imports its
own share, KK by KK, with this same code, so a household is checked and saved exactly
as it would be alone.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Callable

from service.access import Actor
from service.households import Households
from service.importing.context import ImportContext
from service.importing.households import HouseholdImport
from service.importing.interventions import InterventionImport
from service.importing.layouts import HOUSEHOLDS, ColumnMap, Layout
from service.importing.rows import InterventionParser, PersonParser, ProgrammeResolver, RowParser
from service.importing.staging import Staging
from service.importing.villages import VillageResolver

PROGRESS_EVERY = 100  # households between progress reports (and a helper's checks for "stop")

# Collect cyclic garbage after this many net allocations (Python's default: 700).
BULK_GC_THRESHOLD = 100_000


@dataclass(frozen=True)
class ShareJob:
    """Everything pass 2 needs besides the service and the rows: sent to a helper
    process as it is (plain values only)."""

    share: int
    actor: Actor
    layout: str
    columns: ColumnMap
    today: date
    file_date: date
    file_name: str
    import_id: str
    dry_run: bool
    store_was_empty: bool
    batch_size: int


def parser_for(layout: Layout, columns: ColumnMap, households: Households, today: date) -> RowParser:
    if layout is HOUSEHOLDS:
        return PersonParser(columns, VillageResolver(households.regions), today)
    return InterventionParser(columns, ProgrammeResolver(households.programmes))


def import_share(households: Households, job: ShareJob, staging: Staging, parser: RowParser,
                 progress: Callable[[int], None]) -> Counter:
    """KK by KK, the share's rows parsed and checked, households saved in batches;
    rejections go to ``staging``. Returns the counts."""
    context = ImportContext(
        households=households,
        actor=job.actor,
        today=job.today,
        file_date=job.file_date,
        file_name=job.file_name,
        import_id=job.import_id,
        columns=job.columns,
        staging=staging,
        dry_run=job.dry_run,
        store_was_empty=job.store_was_empty,
    )
    unit_class = HouseholdImport if job.layout == HOUSEHOLDS.name else InterventionImport
    importer = unit_class(context, batch_size=job.batch_size)
    done = 0
    for kk, rows in staging.groups(job.share):
        importer.add(kk, [parser(line, cells) for line, cells in rows])
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    importer.finish()
    progress(done % PROGRESS_EVERY)
    return context.counts


_collections_lock = threading.Lock()
_bulk_imports = 0
_default_threshold: tuple = gc.get_threshold()


@contextmanager
def fewer_collections():
    """An import allocates millions of short-lived objects without reference cycles,
    which refcounting frees at once; at the default threshold the cyclic collector
    scans the heap thousands of times for nothing (measured: a tenth to a quarter of
    the import's time). So it runs less often while any import writes, and as before
    once the last one is done."""
    global _bulk_imports, _default_threshold
    with _collections_lock:
        if _bulk_imports == 0:
            _default_threshold = gc.get_threshold()
            gc.set_threshold(max(BULK_GC_THRESHOLD, _default_threshold[0]), *_default_threshold[1:])
        _bulk_imports += 1
    try:
        yield
    finally:
        with _collections_lock:
            _bulk_imports -= 1
            if _bulk_imports == 0:
                gc.set_threshold(*_default_threshold)
