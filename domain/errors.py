"""Domain errors: what a command may be refused for, before any event is recorded.

The service layer maps each class to one HTTP answer in one place, so the classes
say *kind* of refusal (invalid input, wrong state, not found, conflict), not transport.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every refusal the domain can give."""

    code = "domain_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidValue(DomainError):
    """A value breaks a rule (format, range, reference data); names the field."""

    code = "invalid_value"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InvalidState(DomainError):
    """The household is in a state where this command makes no sense."""

    code = "invalid_state"


class HouseholdClosed(InvalidState):
    """A closed household refuses every change but reopening."""

    code = "household_closed"


class NotFound(DomainError):
    """A member, intervention or follow-up named by the command does not exist."""

    code = "not_found"


class DuplicateKK(DomainError):
    """A family card can belong to one household only; says which one has it."""

    code = "duplicate_kk"

    def __init__(self, kk_number: str, existing_id):
        super().__init__(f"KK {kk_number} is already registered")
        self.kk_number = kk_number
        self.existing_id = existing_id


class DuplicateNIK(InvalidValue):
    """A person appears once in a household."""

    code = "duplicate_nik"
