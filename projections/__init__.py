"""Read models built from the household events: the household register, monitoring
counters, open follow-ups and the audit trail.

``engine`` catches them up from the event store's notification log exactly once;
``runner`` runs it in the web process or as a worker; ``read_models`` is what the API
and the web UI call; ``verify`` proves a view equals a replay of the events.
"""
