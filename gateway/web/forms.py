"""Reading posted forms and showing what was wrong with them.

Form fields are named as the API names its arguments (camelCase: `displayName`,
`newPassword`), so a service's error, which names the field, lands next to its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from proto.errors import LotseError


@dataclass
class Form:
    fields: dict[str, list[str]]
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def text(self, name: str) -> str:
        return self.get(name).strip()

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]

    def optional(self, name: str) -> str | None:
        return self.text(name) or None

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def fail_with(self, error: LotseError, fallback: str) -> None:
        """A service's refusal, next to the field it names (or at the top of the form)."""
        name = error.field or ""
        while name and name not in self.known:  # "languages.2" → "languages"
            name = name.rpartition(".")[0]
        self.fail(name or fallback, error.message)

    known: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


def form_of(fields: dict[str, list[str]], *names: str) -> Form:
    form = Form(fields)
    form.known = frozenset(names)
    return form
