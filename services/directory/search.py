"""Full-text search that fits German, on an SQLite FTS5 index of word suffixes (the folding
itself is shared: services/kernel/folding.py).

- Compounds: German glues words together ("Wohnungsbaugenossenschaft"); a word index
  would never find "genossenschaft" inside it. So every word is indexed with each of its
  suffixes ("wohnungsbaugenossenschaft", "ohnungsbaugenossenschaft", …, "t"), and a query
  word is a prefix query on them: `genossenschaft*` matches the suffix that starts with
  it. That finds any part of a word, as a trigram index would, but reads only the few
  index terms that start with the query word instead of the long lists of common
  trigrams ("ung", "sch"), and it serves words shorter than three letters too.
- Umlauts and ß: people type "Muenchen", "Munchen" or "München", "Strasse" or "Straße".
  Text and query are folded the same way (ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped,
  case folded); a word that folds differently letter by letter (ä→a) is indexed that way
  too, so "Muller" finds "Müller". The query is folded only the first way: "mueller" and
  "muller" are both in the index.
- Filters are in the same index, as tag tokens (`_t_housing`, `_w_10041`, …) in a column
  of their own: a search with a topic and a region is one index query, ranked and paged
  before anything else is read. Tags begin with "_", which no query word can (`TERM`).
  A ranked search leaves the status tag out and checks the status on the actor's row:
  bm25 counts the rows of every phrase, and a status tag is in nearly all of them.
- Ranking: bm25 with the name weighing most, then the short name, then the rest (tags not
  at all); ties by name.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from proto.errors import Invalid
from services.kernel.folding import (  # noqa: F401 (the directory's search vocabulary)
    TERM, fold, fold_variants, index_words, terms,
)

# bm25 column weights, in the order of `actor_index`'s columns (name, short_name, body, tags).
WEIGHTS = (10.0, 6.0, 1.0, 0.0)
TEXT_COLUMNS = "{name short_name body}"


@lru_cache(maxsize=100_000)
def _suffixes(word: str) -> str:
    return " ".join(word[i:] for i in range(len(word)))


def index_text(text: str) -> str:
    """What the index holds for a text: every suffix of every word (see the module's doc),
    each word once (a word said twice ranks no higher; the index stays smaller)."""
    return " ".join(_suffixes(word) for word in dict.fromkeys(index_words(text)))


def text_expression(words: list[str]) -> str | None:
    """An FTS5 MATCH expression requiring every word, as a part of some word of the text.

    Each word is a quoted prefix query on the text columns: words are `[a-z0-9]+`, so
    nothing a person types is read as FTS syntax, and no word can match a tag.
    """
    return " AND ".join(f'{TEXT_COLUMNS} : "{w}"*' for w in words) or None


def tag(kind: str, value: str) -> str:
    """A filter value as an index token: kind k(ind), t(opic), l(anguage), s(tatus),
    a(t: a region the actor names), w(ithin: a region that holds one it names)."""
    return f"_{kind}_{value}"


def any_of(tags: list[str]) -> str:
    return "(" + " OR ".join(f'"{t}"' for t in tags) + ")"


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
