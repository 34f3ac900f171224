"""The region picker: state → district → municipality, one level at a time.

Without JavaScript the person picks a state and presses the button, then a district, then
a municipality; with htmx the next list appears as soon as one is picked. The form sends
`state`, `district` and `municipality`; a choice that does not lie inside the one above it
(the state was changed, the district's list was stale) is dropped, so the most specific
consistent choice is the region searched. A link may name one region instead (`region=`):
its ancestors are filled in from the directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from proto import directory
from gateway.web.page import Page

LEVELS = ("state", "district", "municipality")


@dataclass(frozen=True)
class Level:
    name: str  # the form field: state, district, municipality
    options: list[directory.Region]
    selected: str | None


@dataclass(frozen=True)
class RegionChoice:
    levels: list[Level]
    region: directory.Region | None  # the most specific consistent choice

    @property
    def ags(self) -> str | None:
        return self.region.ags if self.region else None

    def params(self) -> dict[str, str]:
        return {level.name: level.selected for level in self.levels if level.selected}


async def _children(page: Page, parent: str | None) -> list[directory.Region]:
    reply = await page.ask(page.gateway.client.directory.list_regions, lambda: directory.ListRegions(parent=parent))
    return reply.regions


async def _expand(page: Page, ags: str) -> list[str]:
    """A region's key as the picker's choices: its ancestors, state first, then itself."""
    found = await page.attempt(page.gateway.client.directory.get_region, lambda: directory.GetRegion(ags=ags))
    if not isinstance(found, directory.Region):
        return []
    return [ref.ags for ref in found.path] + [found.ags]


async def region_choice(page: Page, state: str | None, district: str | None, municipality: str | None,
                        region: str | None = None, *, deepest: str = "municipality") -> RegionChoice:
    if region and not (state or district or municipality):
        state, district, municipality = ([*(await _expand(page, region.strip())), None, None, None])[:3]
    wanted = [v.strip() if v and v.strip() else None for v in (state, district, municipality)]
    depth = LEVELS.index(deepest) + 1
    levels: list[Level] = []
    chosen: directory.Region | None = None
    parent: str | None = None
    # One level after the other: each list is the regions inside the choice above it.
    for name, value in zip(LEVELS[:depth], wanted):
        options = await _children(page, parent)
        if name == "state" and value is None and len(options) == 1:
            value = options[0].ags  # one state only (the Saarland today): nothing to choose
        match = next((r for r in options if r.ags == value), None)
        levels.append(Level(name, options, match.ags if match else None))
        if match is None:
            break
        chosen, parent = match, match.ags
        if match.children == 0:
            break
    return RegionChoice(levels, chosen)
