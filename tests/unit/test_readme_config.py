"""README.md's configuration table lists every setting with the default the code has."""

from __future__ import annotations

import html
import re
from pathlib import Path

from services.kernel.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<name>LOTSE_[A-Z0-9_]+)` \| (?P<default>[^|]+?) \| (?P<meaning>.+) \|$", re.M)


def shown(value: object) -> str:
    """A default as the table writes it."""
    if value is None:
        return "*unset*"
    if value == "":
        return "*empty*"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def table() -> dict[str, tuple[str, str]]:
    rows = {m["name"]: (m["default"], html.unescape(m["meaning"])) for m in ROW.finditer(README.read_text("utf-8"))}
    assert rows, "README.md has no configuration table"
    return rows


def test_every_setting_is_in_the_readme_with_its_default():
    rows = table()
    for field, info in Settings.model_fields.items():
        name = f"LOTSE_{field.upper()}"
        assert name in rows, f"README.md's configuration table lacks {name}"
        assert rows[name][0] == shown(info.default), (
            f"{name}: README says {rows[name][0]}, the code {shown(info.default)}"
        )
        assert rows[name][1] == info.description, f"{name}: README's description differs from settings.py"


def test_the_readme_lists_no_setting_that_is_gone():
    names = {f"LOTSE_{field.upper()}" for field in Settings.model_fields}
    assert set(table()) <= names, f"README.md lists settings the code lacks: {sorted(set(table()) - names)}"
