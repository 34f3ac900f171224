"""The feeds' HTTP rules without I/O: query parameters into the feed's filter, conditional GETs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from gateway.feeds import feed_query, http_date, limit_of, not_modified
from proto.errors import Invalid


def request(query: str = "", **headers: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/feeds/news.atom", "query_string": query.encode(),
                    "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]})


def test_parameters_repeat_or_separate_by_commas_and_unknown_ones_are_refused():
    q = feed_query(request("region=10041100,10042&region=10&topic=housing&kind=PRESS_RELEASE&lang=en"), kinds=True)
    assert (q.regions, q.topics, q.kinds, q.lang) == (["10041100", "10042", "10"], ["housing"], ["press-release"],
                                                      ["en"])
    assert feed_query(request(accept_language="uk,de;q=0.5"), kinds=True).lang == ["uk", "de"]
    for query, field in (("everything=1", "everything"), ("kind=event", "kind"), ("kind=bakery", "kind"),
                         ("region=" + "1" * 20, "region")):
        with pytest.raises(Invalid) as refused:
            feed_query(request(query), kinds=query.startswith("kind=bakery") or query.startswith("region"))
        assert refused.value.field == field, query
    with pytest.raises(Invalid):
        limit_of(request("limit=0"))
    assert limit_of(request("limit=5000")) == 5000 and limit_of(request()) is None


def test_if_none_match_decides_and_if_modified_since_only_without_it():
    changed = datetime(2026, 3, 29, 1, 30, 15, 500_000, tzinfo=UTC)
    assert not_modified(request(if_none_match='"abc"'), '"abc"', changed)
    assert not_modified(request(if_none_match='W/"abc", "other"'), '"abc"', changed)
    assert not not_modified(request(if_none_match='"old"', if_modified_since=http_date(changed)), '"abc"', changed)
    assert not_modified(request(if_modified_since=http_date(changed)), '"abc"', changed)
    assert not not_modified(request(if_modified_since="Sun, 29 Mar 2026 01:30:14 GMT"), '"abc"', changed)
    assert not not_modified(request(if_modified_since="yesterday"), '"abc"', changed)
    assert not not_modified(request(), '"abc"', changed)
    assert http_date(changed) == "Sun, 29 Mar 2026 01:30:15 GMT"
