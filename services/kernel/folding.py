"""Folding text for German-aware full-text search on SQLite FTS5 with the trigram tokenizer.

Shared by every service that searches text people typed (the directory's actors, news items).

- Compounds: German glues words together ("Wohnungsbaugenossenschaft"); a word tokenizer
  would never find "wohnung" inside it. The trigram tokenizer matches any substring of
  three or more characters, so every part of a compound is found.
- Umlauts and ß: people type "Muenchen", "Munchen" or "München", "Strasse" or "Straße".
  Text and query are folded the same way (ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped,
  case folded); the text is also indexed in its single-letter fold (ä→a), so "Muller"
  finds "Müller" too. The query is folded only the first way: "mueller" and "muller" are
  both in the index.
"""

from __future__ import annotations

import re
import unicodedata

TWO_LETTER = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
ONE_LETTER = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
TERM = re.compile(r"[a-z0-9]+")
TRIGRAM = 3  # the tokenizer's unit: shorter terms cannot use the index


def _strip_accents(text: str) -> str:
    if text.isascii():  # most text is, once umlauts are translated: skip the per-letter walk
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The one spelling text and queries are compared in: `Straße München` → `strasse muenchen`."""
    return _strip_accents(text.lower().translate(TWO_LETTER)).casefold()


def fold_variants(text: str) -> str:
    """What the index holds for a text: its fold, and its single-letter fold when different."""
    two = fold(text)
    one = _strip_accents(text.lower().translate(ONE_LETTER)).casefold()
    return two if one == two else f"{two} {one}"


def terms(query: str) -> list[str]:
    """The folded words of a query, each once."""
    return list(dict.fromkeys(TERM.findall(fold(query))))


def fts_expression(words: list[str]) -> str | None:
    """An FTS5 MATCH expression requiring every word that the trigram index can serve.

    Each word is a quoted string, so nothing a person types is read as FTS syntax.
    """
    usable = [w for w in words if len(w) >= TRIGRAM]
    return " AND ".join(f'"{w}"' for w in usable) or None


def short_terms(words: list[str]) -> list[str]:
    """Words too short for the trigram index: matched by substring on the folded text."""
    return [w for w in words if len(w) < TRIGRAM]
