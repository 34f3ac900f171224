"""Regions: the administrative hierarchy by official municipality key (AGS).

A key's digits spell its place: 2 for the state, 5 for the district (state + government
region + district), 8 for the municipality (district + 3). So a municipality's parent is
its first 5 digits and a district's its first 2; a file that says otherwise is refused.

`parse` reads a regions CSV (`ags,name,level,parent_ags`, `#` comment lines naming the
source), `decide_import` turns rows into one `RegionsImported` event per state holding the
new and renamed regions only, so importing the same file twice appends nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from proto import directory as api
from proto.errors import Invalid
from services.directory.domain import check_text

SHIPPED = Path(__file__).parent / "data" / "regions.csv"
HEADER = ["ags", "name", "level", "parent_ags"]
KEY_LENGTH = {"state": 2, "district": 5, "municipality": 8}
PARENT_LEVEL = {"district": "state", "municipality": "district"}
FIELD = "csv"


def _lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines without comments and blank lines (numbers as in the file)."""
    return [
        (number, line)
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def parse(text: str, known: Mapping[str, api.RegionData] | None = None) -> list[api.RegionData]:
    """Every row, checked against the key scheme and against each other (and `known`,
    the regions already imported, for parents that an earlier file brought)."""
    lines = _lines(text)
    if not lines:
        raise Invalid("the file has no header line", FIELD)
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
    if [cell.strip() for cell in rows[0]] != HEADER:
        raise Invalid(f"line {lines[0][0]}: the header must be {','.join(HEADER)}", FIELD)
    regions: dict[str, api.RegionData] = {}
    for (number, _), cells in zip(lines[1:], rows[1:], strict=True):
        region = _row(number, cells)
        if region.ags in regions:
            raise Invalid(f"line {number}: the key {region.ags} appears twice", FIELD)
        regions[region.ags] = region
    for number, region in zip((n for n, _ in lines[1:]), regions.values(), strict=True):
        _check_parent(number, region, regions, known or {})
    return list(regions.values())


def _row(number: int, cells: list[str]) -> api.RegionData:
    if len(cells) != len(HEADER):
        raise Invalid(f"line {number}: expected {len(HEADER)} columns, found {len(cells)}", FIELD)
    ags, name, level, parent = (cell.strip() for cell in cells)
    if level not in KEY_LENGTH:
        raise Invalid(f"line {number}: the level must be state, district or municipality", FIELD)
    if not ags.isdigit() or not ags.isascii() or len(ags) != KEY_LENGTH[level]:
        raise Invalid(f"line {number}: a {level} key has {KEY_LENGTH[level]} digits", FIELD)
    if not name or len(name) > 200:
        raise Invalid(f"line {number}: the name must have 1 to 200 characters", FIELD)
    try:
        check_text(name, FIELD)
    except Invalid as e:
        raise Invalid(f"line {number}: {e.message}", FIELD) from None
    return api.RegionData(ags=ags, name=name, level=level, parent_ags=parent or None)


def _check_parent(number: int, region: api.RegionData, rows: Mapping[str, api.RegionData],
                  known: Mapping[str, api.RegionData]) -> None:
    if region.level == "state":
        if region.parent_ags:
            raise Invalid(f"line {number}: a state has no parent", FIELD)
        return
    expected = region.ags[: KEY_LENGTH[PARENT_LEVEL[region.level]]]
    if region.parent_ags != expected:
        raise Invalid(f"line {number}: the parent of {region.ags} is {expected} by its key", FIELD)
    parent = rows.get(expected) or known.get(expected)
    if parent is None or parent.level != PARENT_LEVEL[region.level]:
        raise Invalid(f"line {number}: the {PARENT_LEVEL[region.level]} {expected} is neither in the "
                      "file nor imported", FIELD)


def state_of(ags: str) -> str:
    return ags[:2]


def decide_import(regions: list[api.RegionData],
                  known: Mapping[str, api.RegionData]) -> list[api.RegionsImported]:
    """One event per state, with the regions that are new or differ; states in file order."""
    by_state: dict[str, list[api.RegionData]] = {}
    for region in regions:
        if known.get(region.ags) != region:
            by_state.setdefault(state_of(region.ags), []).append(region)
    return [api.RegionsImported(state_ags=state, regions=rows) for state, rows in by_state.items()]


def split_by_state(text: str) -> list[str]:
    """A large file as one CSV text per state (header repeated, states in file order),
    each small enough for one `import_regions` request; comments are dropped."""
    lines = _lines(text)
    if not lines:
        return []
    header, body = lines[0][1], lines[1:]
    parts: dict[str, list[str]] = {}
    for _, line in body:
        parts.setdefault(state_of(line.strip().strip('"')), []).append(line)
    return ["\n".join([header, *rows]) + "\n" for rows in parts.values()]
