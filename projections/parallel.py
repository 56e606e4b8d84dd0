"""A rebuild split across processes: each set of projections replayed by its own.

A replay is CPU-bound Python (decoding events, running handlers), so one process
uses one core however many the machine has. The views are independent of each
other, so sets of them can be replayed side by side, each process reading the log
itself and writing only its own tables and tracking rows. Every set keeps the
single-process guarantees: its tables are reset, replayed in batches written with
their positions in one transaction, and marked built only at the end, so a process
that dies leaves its set stale (rebuilt on the next start) and the others intact.

On SQLite the processes take turns at the write lock (each holds it for a batch's
flush only); on PostgreSQL they write concurrently.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from projections.engine import CatchUp, Projection, ProjectionEngine

PROGRESS_INTERVAL = 0.5  # seconds between progress reports read off the tracking table


def split(projections: list[Projection], workers: int) -> list[list[str]]:
    """At most ``workers`` sets of names with replay costs as even as can be
    (largest first, each to the lightest set), each set and the sets in the order given."""
    sets: list[list[Projection]] = [[] for _ in range(min(workers, len(projections)))]
    for projection in sorted(projections, key=lambda p: p.replay_cost, reverse=True):
        min(sets, key=lambda s: sum(p.replay_cost for p in s)).append(projection)
    order = {p.name: n for n, p in enumerate(projections)}
    names = [sorted((p.name for p in s), key=order.__getitem__) for s in sets if s]
    return sorted(names, key=lambda s: order[s[0]])


def rebuild_in_processes(
    engine: ProjectionEngine,
    names: list[str],
    workers: int,
    *,
    batch_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> CatchUp:
    """Replays ``names`` in up to ``workers`` spawned processes; raises the first
    failure once every process has stopped. Progress is the lowest position reached."""
    from projections.engine import CatchUp

    sets = split([engine.projections[name] for name in names], workers)
    # Emptied here first, so that progress starts from zero and a failure to start
    # the processes leaves the views stale rather than as they were.
    with engine.replaying():
        engine.reset(names, indexes=False)
    # spawn, not fork: the parent may run threads (the web server, the projection
    # runner) whose locks a forked child would inherit held.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(sets), mp_context=context) as pool:
        futures = [pool.submit(engine.rebuild_share, share, batch_size) for share in sets]
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=PROGRESS_INTERVAL, return_when=FIRST_EXCEPTION)
            if on_progress:
                on_progress(min(engine.positions(names).values()))
            if any(f.done() and f.exception() for f in futures):
                break  # the others finish their sets while the pool shuts down
    counts = [future.result() for future in futures]
    return CatchUp(events=max(counts))
