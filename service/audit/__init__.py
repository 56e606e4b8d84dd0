"""Auditors' use cases: histories, states as of an instant, reports in two time
dimensions, tamper evidence and the access log.

``audit_for(konvergen)`` gives the one set of audit services for a container, built on
first use so the rest of the service does not pay for it.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from service.audit.access_log import AccessLog
from service.audit.history import HouseholdHistories
from service.audit.integrity import Integrity
from service.audit.reports import BitemporalReports


class Audit:
    def __init__(self, konvergen):
        self.access_log = AccessLog(konvergen.storage.engine, konvergen.clock)
        self.histories = HouseholdHistories(konvergen.households, konvergen.users, self.access_log)
        self.reports = BitemporalReports(konvergen.households, self.access_log)
        self.integrity = Integrity(konvergen.households, self.access_log, konvergen.clock)


_audits: WeakKeyDictionary = WeakKeyDictionary()


def audit_for(konvergen) -> Audit:
    audit = _audits.get(konvergen)
    if audit is None:
        audit = _audits[konvergen] = Audit(konvergen)
    return audit
