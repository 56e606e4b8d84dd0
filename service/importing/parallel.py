"""Pass 2 of a large households import split across processes, one share each.

Pass 2 is CPU-bound Python (parsing, the domain's checks, encoding), so one process
uses one core however many the machine has. Households are independent of each other
(nothing in a household's checks or events looks at another household; one KK is one
household, and all rows of a KK are in one share), so they can be imported side by
side: rows are staged under a share chosen by a stable hash of their KK, this process
imports share 0 and each helper process one more, every one with its own service over
the same database, saving its own batches (one transaction each: SQLite takes them in
turn, PostgreSQL's chained recorder locks the events table for each). Each process's
counts are summed here and its rejections (kept in a file of its own) merged, so the
outcome is the one a single process gives; only the order of the events in the log
differs.

Helpers are started before pass 1, so that their start (a new interpreter importing
the service: 0.6-1 s) overlaps the reading of the file. They are spawned, not forked:
the web UI imports from a threaded server, whose locks a forked child would inherit
held, and a forked child would hold the parent's SQLite connections, which SQLite
forbids using or closing there. Measured on 2 cores, 20,000 households: spawn 3.4-3.5 s,
fork 3.2 s, forkserver 3.2-3.3 s; on 100,000 the 3 s of pass 1 hide the start entirely.
Only stores another process can open qualify (SQLite file, PostgreSQL), and only the
households layout: interventions may share an ID across families.

If any process fails, the others are told to stop (a helper looks every 100 households
and saves no further batch; what it committed stays), the error is raised here and the
import is recorded as failed:
running the file again completes it, as after a failure in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections import Counter
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable

from service.clock import Clock
from service.container import Konvergen
from service.households import Households
from service.importing.layouts import LAYOUTS
from service.importing.rows import RowParser
from service.importing.shares import ShareJob, fewer_collections, import_share, parser_for
from service.importing.staging import Staging

START_METHOD = "spawn"
# A cap (unmeasured beyond 2 cores): each process holds a batch, a service and its
# connections, and SQLite lets one writer in at a time however many wait.
MAX_PROCESSES = 4
STOP_TIMEOUT = 60.0  # seconds a stopping helper may take to finish the batch it is saving
POLL_SECONDS = 0.5


class ImportHelperError(RuntimeError):
    """A helper process failed with an error that could not be sent back as it was,
    or ended without a word (killed, out of memory)."""


def processes_available() -> int:
    """The cores this process may run on (all of them where the OS cannot say), capped."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return min(MAX_PROCESSES, cores)


def open_konvergen(url: str, clock: Clock):
    """How a helper opens the service: its own, over the same database."""
    return Konvergen(url, clock=clock)


def share_file(directory: Path, share: int) -> Path:
    return Path(directory) / f"share-{share}.sqlite"


class Helpers:
    """The helper processes of one import: started early, each given a share of pass 2."""

    def __init__(self, url: str, clock: Clock, count: int, directory: Path,
                 open_service: Callable = open_konvergen):
        self.directory = Path(directory)
        context = multiprocessing.get_context(START_METHOD)
        self.processes: list = []
        self.connections: list[Connection] = []
        self.results: dict[int, Counter] = {}
        try:
            for _ in range(count):
                ours, theirs = context.Pipe()
                process = context.Process(target=_helper, args=(theirs, url, clock, open_service),
                                          daemon=True, name="konvergen-import-helper")
                process.start()
                theirs.close()
                self.processes.append(process)
                self.connections.append(ours)
        except BaseException:
            self.close()
            raise

    @property
    def shares(self) -> int:
        return len(self.processes) + 1

    def import_shares(self, households: Households, job: ShareJob, staging: Staging, parser: RowParser,
                      progress: Callable[[int], None]) -> Counter:
        """Share 0 here, the others in the helpers; every process's counts, and its
        rejections merged into ``staging``."""
        staging.flush()  # the helpers read the rows from the file
        for share, connection in enumerate(self.connections, start=1):
            try:
                connection.send(("job", replace(job, share=share), str(self.directory), str(staging.path)))
            except (BrokenPipeError, OSError):
                pass  # it has failed or died already: receiving says how

        def advance(done: int) -> None:
            progress(done)
            self._receive(progress, timeout=0)

        own = Staging(self.directory, name=share_file(self.directory, 0).name, rows_from=staging.path)
        try:
            counts = import_share(households, replace(job, share=0), own, parser, advance)
        finally:
            own.close()
        while len(self.results) < len(self.connections):
            self._receive(progress, timeout=POLL_SECONDS)
        for share in range(self.shares):
            staging.merge_rejections(share_file(self.directory, share))
        for share_counts in self.results.values():
            counts.update(share_counts)
        return counts

    def _receive(self, progress: Callable[[int], None], timeout: float) -> None:
        """Takes in what the helpers said; raises what one of them raised."""
        waiting = {c: n for n, c in enumerate(self.connections, start=1) if n not in self.results}
        for connection in wait(list(waiting), timeout):
            share = waiting[connection]
            while share not in self.results and connection.poll():
                try:
                    message = connection.recv()
                except EOFError:
                    process = self.processes[share - 1]
                    process.join(STOP_TIMEOUT)  # its pipe closes a moment before it is gone
                    code = process.exitcode
                    raise ImportHelperError(f"import process {share} ended unexpectedly (exit code {code})") from None
                kind = message[0]
                if kind == "progress":
                    progress(message[1])
                elif kind == "done":
                    self.results[share] = Counter(message[1])
                elif kind == "failed":
                    _kind, error, trace = message
                    error.add_note(f"in import process {share}:\n{trace}")
                    raise error

    def close(self) -> None:
        """Tells every helper still working to stop, and waits for it (a helper
        saving a batch finishes that transaction first); idempotent."""
        for connection in self.connections:
            try:
                connection.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(STOP_TIMEOUT)
            if process.is_alive():  # pragma: no cover - a helper stuck past the timeout
                process.terminate()
                process.join()
        for connection in self.connections:
            connection.close()
        self.processes, self.connections = [], []


class _Stopped(Exception):
    pass


def _helper(connection: Connection, url: str, clock: Clock, open_service: Callable) -> None:
    """A helper process: opens the service while the parent reads the file, then
    imports the share it is given, reporting progress, and says how it went."""
    konvergen = None
    try:
        konvergen = open_service(url, clock)
        message = connection.recv()
        if message[0] != "job":
            return
        _kind, job, directory, staged = message

        def report(done: int) -> None:
            connection.send(("progress", done))
            if connection.poll() and connection.recv()[0] == "stop":
                raise _Stopped

        staging = Staging(directory, name=share_file(directory, job.share).name, rows_from=Path(staged))
        try:
            parser = parser_for(LAYOUTS[job.layout], job.columns, konvergen.households, job.today)
            with fewer_collections():
                counts = import_share(konvergen.households, job, staging, parser, report)
        finally:
            staging.close()
        connection.send(("done", dict(counts)))
    except (_Stopped, EOFError, BrokenPipeError):
        pass  # the parent stopped the import (or is gone): it records what happened
    except BaseException as error:
        _send_failure(connection, error)
    finally:
        if konvergen is not None:
            konvergen.close()
        connection.close()


def _send_failure(connection: Connection, error: BaseException) -> None:
    trace = "".join(traceback.format_exception(error))
    try:
        pickle.loads(pickle.dumps(error))  # some exceptions cannot be rebuilt from their args
    except Exception:
        error = ImportHelperError(f"{type(error).__name__}: {error}")
    try:
        connection.send(("failed", error, trace))
    except (BrokenPipeError, OSError):
        pass
