"""Reading an actors CSV (`lotse admin import-actors`): every problem named by line and column."""

from __future__ import annotations

from proto import directory as api
from lotse import actor_csv, imports
from services.directory.regions import SHIPPED

EXAMPLE = SHIPPED.with_name("actors-example.csv")
HEADER = "name,kind,regions,topics,languages,email,street,postal_code,city,latitude,longitude"


def problems(text: str) -> list[str]:
    return [str(p) for p in actor_csv.parse(text).problems]


def test_the_shipped_example_reads_without_problems():
    parsed = actor_csv.parse(EXAMPLE.read_text("utf-8"))
    assert parsed.problems == [] and parsed.count == len(parsed.rows) == 5
    line, first = parsed.rows[0]
    assert line == 4  # the two comment lines and the header come first
    assert first.regions == ["10044111", "10044"] and first.languages == ["de", "ar", "tr", "ru"]
    assert first.address == api.PostalAddress(street="Merziger Straße 5", postal_code="66763",
                                               locality="Dillingen/Saar")
    assert first.coordinates == api.Coordinates(latitude=49.3553, longitude=6.7266)
    kurdish = parsed.rows[3][1]
    assert (kurdish.email, kurdish.address, kurdish.coordinates) == (None, None, None)


def test_each_bad_cell_is_reported_with_its_line_and_column():
    text = "\n".join([
        HEADER,
        "Verein A,counselling-service,10041,housing,de,,,,,,",
        ",counselling-service,,,,,,,,,",
        "Verein B,beratung,10041,wohnen|housing,de,,Weg 1,,,49.2,",
        "Verein C,other,10041,,de,,,,,abc,7.0",
        "Verein D,other,10041",
    ])
    assert problems(text) == [
        "line 3, column name: this cell must not be empty",
        "line 3, column regions: this cell must not be empty",
        "line 4, column kind: “beratung” is not a known actor kind; use one of: " + ", ".join(api.ACTOR_KIND_SLUGS),
        "line 4, column city: give the city when a street or postal code is given",
        "line 4, column longitude: give both latitude and longitude, or neither",
        "line 4, column topics: “wohnen” is not a known topic; use one of: " + ", ".join(api.TOPIC_SLUGS),
        "line 5, column latitude: “abc” is not a number in decimal degrees (49.2354)",
        "line 6: expected 11 cells, found 3 (a cell with a comma needs double quotes)",
    ]
    assert [line for line, _ in actor_csv.parse(text).rows] == [2]


def test_a_bad_header_stops_before_any_row():
    assert problems("name,kind,region,foo\nA,other,10") == [
        "line 1, column region: unknown column “region”; the columns are " + ", ".join(actor_csv.COLUMNS),
        "line 1, column foo: unknown column “foo”; the columns are " + ", ".join(actor_csv.COLUMNS),
        "line 1, column regions: this required column is missing",
    ]
    assert problems("# only a comment\n") == ["line 1: the file has no header line"]


def test_rows_for_one_actor_are_reported_against_the_first():
    text = "name,kind,regions\nCaritas Straße,other,10\nCARITAS STRASSE,other,10041\nAndere,other,10\n"
    parsed = actor_csv.parse(text)
    assert [str(p) for p in parsed.problems] == ["line 3, column name: the same actor as line 2"]
    assert actor_csv.repeated_lines(parsed) == {3}


def test_semicolons_and_decimal_commas_as_spreadsheets_save_them():
    parsed = actor_csv.parse("name;kind;regions;latitude;longitude\nA;other;10;49,25;6,99\n")
    assert parsed.problems == []
    assert parsed.rows[0][1].coordinates == api.Coordinates(latitude=49.25, longitude=6.99)


def test_fields_named_by_the_directory_map_to_columns():
    assert actor_csv.column_of("address.postalCode") == "postal_code"
    assert actor_csv.column_of("address.locality") == "city"
    assert actor_csv.column_of("shortName") == "short_name"
    assert actor_csv.column_of("languages.2") == "languages"
    assert actor_csv.column_of(None) is None


def test_the_report_shows_every_row_and_says_whether_anything_was_written():
    parsed = actor_csv.parse("name,kind,regions\nA,other,10\nB,other,10\n")
    actors = [(2, api.ImportedActor(row=0, actor_id=None, slug="a", outcome="new"))]
    problems_ = [actor_csv.Problem(3, "regions", "“99” is not a known region key (AGS)")]
    assert imports.render(parsed, actors, problems_, committed=False) == [
        "line 2: ok, a would be created",
        "line 3: NOT OK",
        "    regions: “99” is not a known region key (AGS)",
        "2 rows, 1 with problems: nothing was written.",
    ]
    done = [(2, api.ImportedActor(row=0, actor_id="x", slug="a", outcome="created")),
            (3, api.ImportedActor(row=1, actor_id="y", slug="b", outcome="unchanged"))]
    assert imports.render(parsed, done, [], committed=True)[-1] == "2 rows: 1 actors created, 1 already there."


def test_large_files_go_in_batches_under_the_request_limit():
    row = api.CreateActor(kind="other", name="A", regions=["10"], description="x" * 4000)
    found = imports.batches([(n, row) for n in range(130)])
    assert len(found) == 3 and [line for batch in found for line, _ in batch] == list(range(130))
    for batch in found:  # bounded by bytes before rows
        request = api.ImportActors(actors=[r for _, r in batch]).model_dump_json()
        assert len(batch) < imports.BATCH_ROWS and len(request.encode()) < 256 * 1024
    small = api.CreateActor(kind="other", name="A", regions=["10"])
    assert [len(b) for b in imports.batches([(n, small) for n in range(250)])] == [100, 100, 50]
