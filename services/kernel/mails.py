"""The one layout of every mail Lotse sends: the same words as plain text and as HTML.

A service says what a mail says (`Words`); this renders it twice from the same words —
text, and HTML with everything escaped — so the two parts never disagree, and a name
someone typed can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from proto.mail import OutgoingMail

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)

SIGNATURE = {
    "de": "Lotse – die Plattform für Migration und Integration",
    "en": "Lotse – the platform for migration and integration",
}


@dataclass(frozen=True)
class Words:
    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    action_label: str | None = None
    notes: tuple[str, ...] = ()


def mail_locale(locale: str | None) -> str:
    """German unless the account asked for English."""
    return "en" if locale == "en" else "de"


def render(kind: str, words: Words, *, to: str, locale: str, action_url: str | None) -> OutgoingMail:
    locale = mail_locale(locale)
    context = {
        "locale": locale,
        "subject": words.subject,
        "greeting": words.greeting,
        "paragraphs": words.paragraphs,
        "action_label": words.action_label,
        "action_url": action_url,
        "notes": words.notes,
        "signature": SIGNATURE[locale],
    }
    return OutgoingMail(
        to=to,
        subject=words.subject,
        text=_env.get_template("mail.txt").render(context),
        html=_env.get_template("mail.html").render(context),
        locale=locale,
        kind=kind,
    )
