"""A region's coverage as a bar chart, drawn on the server as SVG: no chart library, no
script, readable without either, and printed the same as it is shown.

Pure geometry: the template (templates/_coverage_chart.html) turns these rows into SVG;
the same numbers are in a table beside it for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass

from proto import directory

WIDTH = 320  # the viewBox: scaled to the column, 360 px phones included
LABEL_HEIGHT = 18
BAR_HEIGHT = 14
ROW_GAP = 10
COUNT_ROOM = 40  # right of the longest bar: room for its number


@dataclass(frozen=True)
class Bar:
    topic: str
    actors: int
    offerings: int
    label_y: int
    bar_y: int
    width: float  # 0 for a topic nobody serves


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    bar_height: int


def coverage_chart(coverage: directory.RegionCoverage) -> Chart:
    most = max((t.actors for t in coverage.topics), default=0) or 1
    room = WIDTH - COUNT_ROOM
    bars: list[Bar] = []
    y = 0
    for entry in coverage.topics:
        bars.append(Bar(entry.topic, entry.actors, entry.offerings, label_y=y + LABEL_HEIGHT - 4,
                        bar_y=y + LABEL_HEIGHT, width=round(room * entry.actors / most, 1)))
        y += LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    return Chart(bars, WIDTH, max(y - ROW_GAP, 0), BAR_HEIGHT)
