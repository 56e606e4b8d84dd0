"""Server-side charts: numbers in, bar geometry out; templates draw it as SVG.

No chart library and no script: a chart is readable as soon as the HTML arrives, on
any phone, and each bar carries its number as text. Widths are percentages of the
largest value, so the SVG scales with the page (``viewBox`` 0..100).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.household import CATEGORIES

CATEGORY_COLOURS = {
    "miskin_ekstrem": "#b3261e",
    "miskin": "#a84f00",
    "rentan": "#8a6d00",
    "tidak_miskin": "#2e7d32",
    None: "#6b7680",
}
SERIES_COLOUR = "#0b5d4b"
SECOND_COLOUR = "#4f7cac"
ALERT_COLOUR = "#b3261e"


@dataclass(frozen=True)
class Segment:
    key: str | None
    value: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    segments: list[Segment]
    link: str | None = None


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, label)

    @property
    def empty(self) -> bool:
        return not any(bar.total for bar in self.bars)


def _scale(maximum: int) -> float:
    return 100.0 / maximum if maximum > 0 else 0.0


def bar_chart(rows: list[tuple[str, int]], *, colour: str = SERIES_COLOUR, colours: dict[str, str] | None = None) -> BarChart:
    """One bar per (label, value); ``colours`` picks out bars by label (e.g. "none")."""
    scale = _scale(max((value for _, value in rows), default=0))
    return BarChart(
        [
            Bar(label, value, [Segment(None, value, 0.0, round(value * scale, 2), (colours or {}).get(label, colour))])
            for label, value in rows
        ]
    )


def stacked_chart(
    rows: list[tuple[str, dict[str | None, int]]],
    order: list,
    colours: dict,
    legend_labels: dict,
    links: dict[str, str] | None = None,
) -> BarChart:
    """One bar per row, split into segments in ``order`` (e.g. categories)."""
    scale = _scale(max((sum(parts.values()) for _, parts in rows), default=0))
    bars = []
    for label, parts in rows:
        x = 0.0
        segments = []
        for key in order:
            value = parts.get(key, 0)
            if not value:
                continue
            width = round(value * scale, 2)
            segments.append(Segment(key, value, round(x, 2), width, colours[key]))
            x += width
        bars.append(Bar(label, sum(parts.values()), segments, link=(links or {}).get(label)))
    legend = [(colours[key], str(legend_labels[key])) for key in order if key in legend_labels]
    return BarChart(bars, legend)


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    height: float  # percent of the plot's height
    x: float


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    width: float  # of the viewBox: grows with the number of columns
    step: float
    label_every: int

    @property
    def empty(self) -> bool:
        return not any(column.value for column in self.columns)


def column_chart(rows: list[tuple[str, int]], *, step: float = 24.0) -> ColumnChart:
    """Columns over time (graduations by month); labels thinned so they never overlap."""
    scale = _scale(max((value for _, value in rows), default=0))
    columns = [Column(label, value, round(value * scale, 2), round(i * step, 2)) for i, (label, value) in enumerate(rows)]
    return ColumnChart(columns, max(len(rows) * step, step), step, max(1, (len(rows) + 11) // 12))


def category_order() -> list:
    return [*CATEGORIES, None]
