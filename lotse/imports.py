"""`lotse admin import-regions` and `lotse admin import-actors`: operator imports over NATS.

Both send operator requests (no token; deploy/ lets only the operator publish them).
Regions go one state per request (`split_by_state`), small enough for one message.
Actors go in batches; every batch is checked (`commit` false) before the first one is
committed, so a file with one bad row writes nothing. A batch is small enough to be
answered well within LOTSE_REQUEST_TIMEOUT whatever the file's size (the directory writes
a batch's rows side by side), a few batches are in flight at once, and a progress bar
(on a terminal) shows both passes. An import cut short is finished by running it again:
what is in the directory already is "already there", the rest is added.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from nats.aio.client import Client as NATS
from tqdm import tqdm

from lotse import actor_csv
from lotse.actor_csv import ParsedFile, Problem
from proto import directory as api
from proto.client import LotseClient
from proto.errors import ErrorCode, LotseError
from services.directory.regions import split_by_state
from services.kernel.connection import connect
from services.kernel.settings import Settings

BATCH_ROWS = 100
BATCH_BYTES = 200_000  # below the services' 256 kB request limit, with room for JSON framing
IN_FLIGHT = 4  # batches sent before the first answer is back: the directory is never idle
RETRIES = 3  # attempts of a batch that was not answered in time

Print = Callable[[str], None]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SystemExit(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SystemExit(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from None


def _fail(e: LotseError) -> SystemExit:
    return SystemExit(f"{e.code}: {e.message}" + (f" ({e.field})" if e.field else ""))


async def _client(settings: Settings) -> tuple[NATS, LotseClient]:
    nc = await connect(settings.nats_url, "lotse-admin", first_connect_timeout=5)
    return nc, LotseClient(nc, settings.request_timeout)


# ---- regions ---------------------------------------------------------------------------

async def import_regions(settings: Settings, path: Path, out: Print = print) -> None:
    parts = split_by_state(read_text(path))
    if not parts:
        raise SystemExit(f"{path}: the file has no rows")
    nc, client = await _client(settings)
    try:
        for part in parts:
            try:
                summary = await client.directory.import_regions(api.ImportRegions(csv=part))
            except LotseError as e:
                raise _fail(e) from None
            state = part.splitlines()[1].split(",")[0].strip('"')[:2]
            out(f"state {state}: {summary.created} created, {summary.updated} renamed, "
                f"{summary.unchanged} unchanged")
    finally:
        await nc.close()


# ---- actors ----------------------------------------------------------------------------

def batches(rows: list[tuple[int, api.CreateActor]]) -> list[list[tuple[int, api.CreateActor]]]:
    """Rows in requests of at most BATCH_ROWS rows and BATCH_BYTES bytes of JSON."""
    found: list[list[tuple[int, api.CreateActor]]] = [[]]
    size = 0
    for line, row in rows:
        length = len(row.model_dump_json(exclude_defaults=True).encode())
        if found[-1] and (len(found[-1]) >= BATCH_ROWS or size + length > BATCH_BYTES):
            found.append([])
            size = 0
        found[-1].append((line, row))
        size += length
    return [batch for batch in found if batch]


async def _send(client: LotseClient, batch: list[tuple[int, api.CreateActor]], *, commit: bool
                ) -> tuple[list[tuple[int, api.ImportedActor]], list[Problem]]:
    """One request; its rows and problems named by file line and column.

    A batch that is not answered in time is sent again: checking changes nothing, and
    writing is idempotent (each row's actor id is made from the row, see the directory's
    `import_actors`), so a batch still being written when the retry comes is not doubled."""
    for attempt in range(1, RETRIES + 1):
        try:
            report = await client.directory.import_actors(
                api.ImportActors(actors=[row for _, row in batch], commit=commit))
            break
        except LotseError as e:
            if e.code is not ErrorCode.UNAVAILABLE or attempt == RETRIES:
                raise
            await asyncio.sleep(attempt)
    lines = [line for line, _ in batch]
    return ([(lines[a.row], a) for a in report.actors],
            [Problem(lines[p.row], actor_csv.column_of(p.field), p.message) for p in report.problems])


def render(parsed: ParsedFile, actors: list[tuple[int, api.ImportedActor]], problems: list[Problem],
           *, committed: bool) -> list[str]:
    """The report: every data row with what happens to it, its problems beneath it."""
    by_line: dict[int, list[Problem]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem)
    outcomes = dict(actors)
    rows = sorted({line for line, _ in parsed.rows} | set(by_line) | set(outcomes))
    report = []
    for line in rows:
        if line in by_line:
            report.append(f"line {line}: NOT OK")
            report += [f"    {p.column or 'row'}: {p.message}" for p in by_line[line]]
        elif line in outcomes:
            actor = outcomes[line]
            what = {"new": "would be created", "created": "created", "unchanged": "already in the directory"}
            report.append(f"line {line}: ok, {actor.slug} {what[actor.outcome]}")
    bad = len(by_line)
    created = sum(a.outcome == "created" for _, a in actors)
    unchanged = sum(a.outcome == "unchanged" for _, a in actors)
    if bad and not committed:
        report.append(f"{parsed.count} rows, {bad} with problems: nothing was written.")
    elif committed:
        report.append(f"{parsed.count} rows: {created} actors created, {unchanged} already there"
                      + (f", {bad} not written (run the import again: what is there is skipped)." if bad else "."))
    else:
        report.append(f"{parsed.count} rows, all fine. Nothing was written: run again with --commit.")
    return report


async def _pass(client: LotseClient, batches_: list[list[tuple[int, api.CreateActor]]], *, commit: bool,
                bar: tqdm) -> tuple[list[tuple[int, api.ImportedActor]], list[Problem]]:
    """Every batch, a few in flight at once; results in file order."""
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(batch: list[tuple[int, api.CreateActor]]
                  ) -> tuple[list[tuple[int, api.ImportedActor]], list[Problem]]:
        async with slots:
            result = await _send(client, batch, commit=commit)
        bar.update(len(batch))
        return result

    actors: list[tuple[int, api.ImportedActor]] = []
    problems: list[Problem] = []
    tasks = [asyncio.ensure_future(one(batch)) for batch in batches_]
    try:
        for found, trouble in await asyncio.gather(*tasks):
            actors += found
            problems += trouble
    except LotseError as e:
        raise _fail(e) from None
    finally:
        for task in tasks:  # one failed: the others stop too
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return actors, problems


def _bar(total: int, what: str) -> tqdm:
    # On a terminal only (disable=None): a log or a pipe gets the report, not the bar's redraws.
    return tqdm(total=total, desc=what, unit=" rows", file=sys.stderr, disable=None, leave=True)


async def import_actors(settings: Settings, path: Path, *, commit: bool, out: Print = print) -> bool:
    """Check (and with `commit`, write) an actors CSV; True when every row is fine."""
    parsed = actor_csv.parse(read_text(path))
    problems = list(parsed.problems)
    # A row that repeats an earlier one is reported from the file; the directory checks the rest.
    repeated = actor_csv.repeated_lines(parsed)
    rows = [(line, row) for line, row in parsed.rows if line not in repeated]
    if not rows and not problems:
        problems.append(Problem(1, None, "the file has no data rows"))
    nc, client = await _client(settings)
    try:
        batched = batches(rows)
        with _bar(len(rows), "checking") as bar:
            actors, trouble = await _pass(client, batched, commit=False, bar=bar)
        problems += trouble
        committed = commit and not problems
        if committed:
            with _bar(len(rows), "importing") as bar:
                actors, trouble = await _pass(client, batched, commit=True, bar=bar)
            problems += trouble
    finally:
        await nc.close()
    problems.sort(key=actor_csv.in_file_order)
    for line in render(parsed, actors, problems, committed=committed):
        out(line)
    return not problems
