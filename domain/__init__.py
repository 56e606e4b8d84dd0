"""Konvergen's domain model: pure Python and eventsourcing.domain, no I/O."""
