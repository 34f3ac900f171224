"""Reading an actors CSV for `lotse admin import-actors`, and reporting on it row by row.

The file format (UTF-8, a BOM is fine; `#` lines are comments; comma-separated, or
semicolon-separated as spreadsheet programs in Germany save it):

    name,short_name,kind,description,website,email,phone,street,postal_code,city,
    latitude,longitude,regions,topics,languages

- `name`, `kind` and `regions` are required columns and cells; the other columns may be
  left out of the header or left empty in a row. Unknown columns are refused (a typo
  would otherwise drop data silently).
- `kind`: a slug of the actor-kind vocabulary (`counselling-service`, `municipality`, …).
- `regions`, `topics`, `languages`: several values separated by `|` —
  official municipality keys (AGS, `10041100|10042`), topic slugs (`housing|employment`),
  ISO 639-1 codes (`de|ar|uk`).
- `street`, `postal_code`, `city`: the postal address; `city` is needed when either of
  the others is given. `latitude`, `longitude`: decimal degrees, both or neither; a
  decimal comma is read as a point.
- The slug (web address name) is made from the name, as when a member creates an actor.

Only the shape of each cell is checked here (no I/O); what a value means (a real
language, a known region, a dialable number, a name nobody holds yet) is checked by the
directory itself with the same rules as every other write (`directory.import_actors`
with `commit` false), so the two never drift apart.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from proto import directory as api
from proto.validation import field_path
from services.directory import domain, search

REQUIRED = ("name", "kind", "regions")
COLUMNS = ("name", "short_name", "kind", "description", "website", "email", "phone", "street",
           "postal_code", "city", "latitude", "longitude", "regions", "topics", "languages")
LIST_SEPARATOR = "|"
LIST_COLUMNS = ("regions", "topics", "languages")
ADDRESS_COLUMNS = {"street": "street", "postal_code": "postal_code", "city": "locality"}

# A field as the directory names it (camelCase, see proto.validation.camel) → the column.
COLUMN_OF_FIELD = {
    "shortName": "short_name",
    "address": "city",
    "address.street": "street",
    "address.postalCode": "postal_code",
    "address.locality": "city",
    "address.country": "city",
    "coordinates": "latitude",
    "coordinates.latitude": "latitude",
    "coordinates.longitude": "longitude",
}


@dataclass(frozen=True)
class Problem:
    line: int  # in the file, counting from 1, comments included
    column: str | None  # None: the whole row or file
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    """The rows that have a valid shape (with their line), and every problem found."""

    rows: list[tuple[int, api.CreateActor]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    count: int = 0  # data rows in the file, with problems or not


def column_of(field_name: str | None) -> str | None:
    """The CSV column an error about `field_name` (camelCase, maybe `topics.2`) concerns."""
    if field_name is None:
        return None
    head = ".".join(part for part in field_name.split(".") if not part.isdigit())
    return COLUMN_OF_FIELD.get(head, head.split(".")[0] if head.split(".")[0] in COLUMNS else head)


def parse(text: str) -> ParsedFile:
    result = ParsedFile()
    lines = [(n, line) for n, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        result.problems.append(Problem(1, None, "the file has no header line"))
        return result
    delimiter = ";" if ";" in lines[0][1] and "," not in lines[0][1] else ","
    records = list(csv.reader(io.StringIO("\n".join(line for _, line in lines)), delimiter=delimiter))
    header = [cell.strip().lower() for cell in records[0]]
    if header_problems := _check_header(lines[0][0], header):
        result.problems += header_problems
        return result
    for (number, _), cells in zip(lines[1:], records[1:], strict=True):
        result.count += 1
        row, problems = _row(number, header, cells)
        result.problems += problems
        if row is not None:
            result.rows.append((number, row))
    result.problems += _repeated_names(result.rows)
    result.problems.sort(key=in_file_order)
    return result


def in_file_order(problem: Problem) -> tuple[int, int]:
    """By line, then by column as the format lists them."""
    return problem.line, COLUMNS.index(problem.column) if problem.column in COLUMNS else -1


def _check_header(number: int, header: list[str]) -> list[Problem]:
    problems = []
    for name in header:
        if name not in COLUMNS:
            problems.append(Problem(number, name or None, f"unknown column “{name}”; the columns are "
                                    + ", ".join(COLUMNS)))
    for name in dict.fromkeys(header):
        if header.count(name) > 1:
            problems.append(Problem(number, name, "this column appears twice"))
    for name in REQUIRED:
        if name not in header:
            problems.append(Problem(number, name, "this required column is missing"))
    return problems


def _row(number: int, header: list[str], cells: list[str]) -> tuple[api.CreateActor | None, list[Problem]]:
    if len(cells) != len(header):
        return None, [Problem(number, None, f"expected {len(header)} cells, found {len(cells)} "
                              "(a cell with a comma needs double quotes)")]
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    problems = [Problem(number, name, "this cell must not be empty") for name in REQUIRED if not values.get(name)]
    fields: dict[str, object] = {
        name: values[name] or None for name in ("name", "short_name", "kind", "website", "email", "phone")
        if name in values
    }
    fields["description"] = values.get("description", "")
    for name in LIST_COLUMNS:
        fields[name] = [v.strip() for v in values.get(name, "").split(LIST_SEPARATOR) if v.strip()]
    if any(values.get(name) for name in ADDRESS_COLUMNS):
        fields["address"] = {key: values.get(name, "") for name, key in ADDRESS_COLUMNS.items()}
    coordinates, coordinate_problems = _coordinates(number, values)
    problems += coordinate_problems
    if coordinates is not None:
        fields["coordinates"] = coordinates
    try:
        row = api.CreateActor.model_validate(fields)
    except ValidationError as e:
        # A required cell left empty fails the model too: say so once, in the plainer words.
        empty = {p.column for p in problems}
        problems += [p for p in (_shape_problem(number, error) for error in e.errors(include_url=False))
                     if p.column not in empty]
        row = None
    return (row if not problems else None), problems


def _coordinates(number: int, values: dict[str, str]) -> tuple[dict[str, float] | None, list[Problem]]:
    raw = {name: values.get(name, "") for name in ("latitude", "longitude")}
    if not any(raw.values()):
        return None, []
    if not all(raw.values()):
        missing = next(name for name, value in raw.items() if not value)
        return None, [Problem(number, missing, "give both latitude and longitude, or neither")]
    parsed, problems = {}, []
    for name, value in raw.items():
        try:
            parsed[name] = float(value.replace(",", "."))
        except ValueError:
            problems.append(Problem(number, name, f"“{value}” is not a number in decimal degrees (49.2354)"))
    return (parsed if not problems else None), problems


def _shape_problem(number: int, error: ErrorDetails) -> Problem:
    loc = tuple(error.get("loc", ()))
    column = column_of(field_path(loc))
    if error.get("type") == "literal_error":
        vocabulary = api.ACTOR_KIND_SLUGS if column == "kind" else api.TOPIC_SLUGS
        label = "actor kind" if column == "kind" else "topic"
        return Problem(number, column, f"“{error.get('input')}” is not a known {label}; use one of: "
                       + ", ".join(vocabulary))
    if column == "city" and error.get("type") == "string_too_short":
        return Problem(number, column, "give the city when a street or postal code is given")
    return Problem(number, column, str(error.get("msg", "invalid value")).removeprefix("Value error, "))


def _repeated_names(rows: list[tuple[int, api.CreateActor]]) -> list[Problem]:
    """Two rows for one actor: the same name (folded: "Straße" = "Strasse") or the same slug."""
    lines = [line for line, _ in rows]
    twins = domain.repeated([domain.import_slug(row) for _, row in rows])
    twins |= domain.repeated([search.fold(row.name) for _, row in rows])
    return [Problem(lines[later], "name", f"the same actor as line {lines[first]}")
            for later, first in sorted(twins.items())]


def repeated_lines(parsed: ParsedFile) -> set[int]:
    """Lines of rows that repeat an earlier one: not sent to the directory."""
    return {p.line for p in parsed.problems if p.column == "name" and p.message.startswith("the same actor")}
