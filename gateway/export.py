"""The schema as SDL: `python -m gateway.export` writes gateway/schema.graphql.

The file is checked in so partners can read the API without running it, and reviews show
every change to the public contract; tests/unit/test_schema_export.py fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from gateway.schema import schema

SDL_PATH = Path(__file__).parent / "schema.graphql"


def sdl() -> str:
    return print_schema(schema) + "\n"


def write_sdl() -> str:
    """Write the checked-in SDL; returns what it did, for the CLI (`lotse schema`) to print."""
    SDL_PATH.write_text(sdl(), encoding="utf-8")
    return f"wrote {SDL_PATH}"


def main() -> None:
    print(write_sdl())


if __name__ == "__main__":
    main()
