"""Processes starting together on a fresh database take turns creating its tables."""

from __future__ import annotations

import threading
import time

from service.storage import open_storage


def test_two_openers_of_one_database_never_hold_the_schema_lock_at_the_same_time(database_url):
    first, second = open_storage(database_url), open_storage(database_url)
    inside, overlaps = [], []

    def hold(storage, name):
        with storage.schema_lock():
            if inside:
                overlaps.append((inside[-1], name))
            inside.append(name)
            time.sleep(0.2)
            inside.remove(name)

    try:
        threads = [threading.Thread(target=hold, args=(s, n)) for s, n in ((first, "first"), (second, "second"))]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        elapsed = time.perf_counter() - started
    finally:
        first.dispose()
        second.dispose()
    assert overlaps == []
    assert elapsed >= 0.4  # the second waited for the first


def test_the_schema_lock_can_be_taken_again_once_released(database_url):
    storage, other = open_storage(database_url), open_storage(database_url)
    taken = []

    def take(by) -> None:
        with by.schema_lock():
            taken.append(by)

    try:
        take(storage)
        again = threading.Thread(target=take, args=(other,), daemon=True)  # another connection, as a second process
        again.start()
        again.join(10)
        assert not again.is_alive(), "the released lock was still held"
        take(storage)
        assert taken == [storage, other, storage]
    finally:
        storage.dispose()
        other.dispose()
