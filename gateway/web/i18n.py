"""The pages' words: gettext catalogs, German first, English complete.

Texts live in `locale/<lang>/LC_MESSAGES/messages.po` under stable keys ("search.title"),
so neither language is the other's translation and a missing text in either is a test
failure (tests/unit/test_web_i18n.py), not a silent fallback. The catalogs are compiled
with Babel when first used: a fresh clone needs no build step, and a `.mo` file can never
be older than its `.po`.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DEFAULT = "de"
LOCALE_DIR = Path(__file__).parent / "locale"
# Lotse serves one German state: times are shown as people there read their clocks.
TIMEZONE = ZoneInfo("Europe/Berlin")


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> Translations:
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def text(lang: str, key: str, **values: object) -> str:
    """One text in Python code (a mail-link page's message, a form error)."""
    found = translations(lang).gettext(key)
    return found % values if values else found


def language(explicit: str | None, chosen: str | None, accept_language: str | None) -> str:
    """`?lang=` or a form's `lang` wins; then the language switch's cookie; then the best of
    de/en the browser asks for; else German."""
    for candidate in (explicit, chosen):
        if candidate in LANGUAGES:
            return candidate
    best, best_q = DEFAULT, 0.0
    for entry in (accept_language or "").split(","):
        tag, _, params = entry.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Strictly greater: on a tie the earlier entry, the browser's stated preference, stays;
        # q=0 means "not this one" and never wins.
        if q > best_q:
            best, best_q = primary, q
    return best


def when(value: datetime, lang: str) -> str:
    """A moment as people read it: "3. Mai 2026, 14:05" / "3 May 2026, 14:05"."""
    return format_datetime(value.astimezone(TIMEZONE), "d. MMMM y, HH:mm" if lang == "de" else "d MMMM y, HH:mm",
                           locale=lang)


def day(value: datetime, lang: str) -> str:
    return format_date(value.astimezone(TIMEZONE), "long", locale=lang)


def moment(start: datetime, end: datetime, all_day: bool, lang: str) -> str:
    """An event's time as wall-clock time where it takes place: "Di., 8. Dez. 2026, 18:00–20:00"."""
    pattern = "EEE d. MMM y" if lang == "de" else "EEE d MMM y"
    if all_day:
        first, last = format_date(start, pattern, locale=lang), format_date(end, pattern, locale=lang)
        return first if first == last else f"{first} – {last}"
    return f"{format_datetime(start, pattern + ', HH:mm', locale=lang)}–{format_datetime(end, 'HH:mm', locale=lang)}"


def deadline(value: date, lang: str) -> str:
    return format_date(value, "long", locale=lang)


@lru_cache(maxsize=256)
def direction(code: str) -> str:
    """How text in a language runs: "rtl" for Arabic, Farsi, Hebrew, Urdu and the others
    CLDR writes right to left, else "ltr" (also for a code Babel does not know)."""
    from babel import Locale, UnknownLocaleError

    try:
        order = Locale.parse(code.replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def native_name(code: str) -> str:
    """A language's name in itself ("العربية", "Deutsch"), for a link to read in it."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:] if name else code
