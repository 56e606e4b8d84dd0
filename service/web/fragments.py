"""Rendered page parts kept until what they show changes.

The expensive parts of the busiest pages (the dashboard's figures and charts, a page of
the household list, a household's case file) are rendered once and served again while
their key is unchanged. Keys hold everything the part depends on, so a hit is never
stale:

* list and dashboard parts: the reader's scope, the filters, the language, today's date
  and the projections' position (``engine.min_position()``), which moves with every
  event they apply;
* the case file: the household's id and version, the language, today's date and what
  the reader may do there (which buttons show).

Per process, bounded (least recently used parts are dropped). ``KONVERGEN_FRAGMENT_CACHE``
set to false switches it off (the benchmark reports both ways).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

from flask import current_app
from markupsafe import Markup

from projections.runner import build_engine
from service.web.i18n import current_language
from service.web.support import konvergen

CONFIG = "KONVERGEN_FRAGMENT_CACHE"
MAX_PARTS = 1024


class FragmentCache:
    def __init__(self, size: int = MAX_PARTS):
        self.size = size
        self._parts: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> Markup:
        with self._lock:
            part = self._parts.get(key)
            if part is not None:
                self._parts.move_to_end(key)
                return part
        part = Markup(render())
        with self._lock:
            self._parts[key] = part
            while len(self._parts) > self.size:
                self._parts.popitem(last=False)
        return part


def _enabled() -> bool:
    value = current_app.config.get(CONFIG, True)
    return str(value).lower() not in ("0", "false", "no", "off")


def rendered(kind: str, key: tuple, render: Callable[[], str]) -> Markup:
    """The part for ``key`` (plus the language and today's date), rendered if need be."""
    if not _enabled():
        return Markup(render())
    cache: FragmentCache = current_app.extensions.setdefault("konvergen_fragments", FragmentCache())
    return cache.get((kind, current_language(), konvergen().clock.today(), *key), render)


def projections_position() -> int:
    """How far every projection has got: list and dashboard parts are keyed by it."""
    k = konvergen()
    engine = getattr(k.projections, "engine", None)
    if engine is None:
        engines = current_app.extensions.setdefault("konvergen_projection_engines", {})
        engine = engines.get(id(k))
        if engine is None:
            engine = engines[id(k)] = build_engine(k)
    return engine.min_position()
