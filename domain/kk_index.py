"""The family-card index: makes "one household per KK" a fact the event store enforces.

Its id is derived from the KK number (uuid5), so registering a KK twice means
creating the same aggregate twice, which the store refuses atomically together with
the household. Old numbers stay reserved after a KK change: the card was retired by
Dukcapil, and looking it up still finds the family it belonged to.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate


class KKIndex(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class Reserved(Event, Aggregate.Created):
        class_version = 1
        kk_number: str
        household_id: UUID

    def __init__(self, kk_number: str, household_id: UUID, actor: str):
        self.kk_number = kk_number
        self.household_id = household_id

    @staticmethod
    def create_id(kk_number: str) -> UUID:
        return kk_index_id(kk_number)

    @classmethod
    def reserve(cls, *, kk_number: str, household_id: UUID, actor: str) -> KKIndex:
        return cls._create(
            cls.Reserved, kk_number=kk_number, household_id=household_id, actor=actor
        )


def kk_index_id(kk_number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/konvergen/kk/{kk_number}")
