"""Folding text for German-aware full-text search on SQLite FTS5.

Shared by every service that searches text people typed: news items on the trigram
tokenizer (below), the directory's actors on an index of word suffixes built from
`index_words` (services/directory/search.py).

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


# Every combining mark of the Basic Multilingual Plane, as one character class: removing
# them with one regular expression is many times faster than a walk letter by letter.
_COMBINING = re.compile("[" + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000)
                                      if unicodedata.combining(chr(c))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_WORDS = re.compile(r"[^\W_]+")


def _strip_accents(text: str) -> str:
    if text.isascii():  # most text is, once umlauts are translated: nothing to do
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if _ASTRAL.search(decomposed):  # maybe a mark beyond that plane (rare scripts): letter by letter
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return _COMBINING.sub("", decomposed)


def _two_letter(text: str) -> str:
    # str.replace, four times, beats str.translate with multi-letter replacements by far.
    return text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


def _one_letter(text: str) -> str:
    lower = text.lower()
    return _strip_accents(lower.replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")).casefold()


def fold(text: str) -> str:
    """The one spelling text and queries are compared in: `Straße München` → `strasse muenchen`."""
    lower = text.lower()
    return _strip_accents(_two_letter(lower) if not lower.isascii() else lower).casefold()


def fold_variants(text: str) -> str:
    """What a trigram index holds for a text: its fold, and its single-letter fold when different."""
    two = fold(text)
    one = _one_letter(text)
    return two if one == two else f"{two} {one}"


def index_words(text: str) -> list[str]:
    """The words a text is found by: its folded words, and the single-letter folds of those
    with an umlaut ("müller" → "mueller", and "muller")."""
    two = TERM.findall(fold(text))
    lower = text.lower()
    if lower.isascii():
        return two
    seen = set(two)
    # Words, then those with an umlaut: a pattern for "a word with an umlaut in it" tries
    # every letter of every word as a start, three times slower on a description.
    umlauted = [word for word in _WORDS.findall(lower) if "ä" in word or "ö" in word or "ü" in word]
    extra = [w for word in umlauted for w in TERM.findall(_one_letter(word))]
    return two + [w for w in dict.fromkeys(extra) if w not in seen]


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
