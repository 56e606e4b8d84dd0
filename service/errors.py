"""Refusals that belong to the application, not the domain: access and concurrency."""

from __future__ import annotations

from domain.errors import DomainError, NotFound


class HouseholdNotFound(NotFound):
    """No such household, or one the reader may not see (the two are not told apart)."""

    code = "household_not_found"

    def __init__(self, household_id):
        super().__init__(f"household {household_id} not found")
        self.household_id = household_id


class Forbidden(DomainError):
    """The actor may see this but may not do this."""

    code = "forbidden"


class VersionConflict(DomainError):
    """The household moved on since the version the command was based on."""

    code = "version_conflict"

    def __init__(self, household_id, expected: int | None, current: int):
        if expected is None:
            message = f"household {household_id} kept changing; try again (now at version {current})"
        else:
            message = (
                f"household {household_id} is at version {current}, "
                f"not {expected}: someone changed it meanwhile"
            )
        super().__init__(message)
        self.household_id = household_id
        self.expected = expected
        self.current = current

