"""Full-text search that fits German, on SQLite FTS5 with the trigram tokenizer (the folding
itself is shared: services/kernel/folding.py).

- Compounds: German glues words together ("Wohnungsbaugenossenschaft"); a word tokenizer
  would never find "wohnung" inside it. The trigram tokenizer matches any substring of
  three or more characters, so every part of a compound is found.
- Umlauts and ß: people type "Muenchen", "Munchen" or "München", "Strasse" or "Straße".
  Text and query are folded the same way (ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped,
  case folded); the text is also indexed in its single-letter fold (ä→a), so "Muller"
  finds "Müller" too. The query is folded only the first way: "mueller" and "muller" are
  both in the index.
- Ranking: bm25 with the name weighing most, then the short name, then the rest; ties by
  name.
"""

from __future__ import annotations

import base64

from proto.errors import Invalid
from services.kernel.folding import (  # noqa: F401 (the directory's search vocabulary)
    ONE_LETTER, TERM, TRIGRAM, TWO_LETTER, fold, fold_variants, fts_expression, short_terms, terms,
)

# bm25 column weights, in the order of `actor_search`'s columns (name, short_name, body).
WEIGHTS = (10.0, 6.0, 1.0)


# ---- cursors ---------------------------------------------------------------------------
# Results are ranked, so a cursor is the position after an edge. It is opaque to callers
# (base64), and a page asked with a stale cursor simply continues from that position.

def cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"o:{position}".encode()).decode().rstrip("=")


def position(value: str | None, field: str = "after") -> int:
    if not value:
        return 0
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        kind, _, number = raw.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("this cursor is not one this service gave out", field) from None
