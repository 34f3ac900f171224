"""Who is calling: client address behind proxies, and the token a WebSocket client sends."""

from __future__ import annotations

import pytest

from gateway.caller import client_address, token_from_connection_params
from proto.errors import Invalid


def test_direct_peer_is_the_address_when_no_proxy_is_trusted():
    assert client_address("198.51.100.4", "203.0.113.9", "") == "198.51.100.4"


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    # Anyone can write the header; only our own proxy's word counts.
    assert client_address("198.51.100.4", "203.0.113.9", "10.0.0.2") == "198.51.100.4"


def test_trusted_proxy_reports_the_client():
    assert client_address("10.0.0.2", "203.0.113.9", "10.0.0.2") == "203.0.113.9"


def test_a_client_cannot_pick_its_address_by_prepending_to_the_header():
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real address.
    assert client_address("10.0.0.2", "1.2.3.4, 203.0.113.9", "10.0.0.2") == "203.0.113.9"


def test_chains_of_trusted_proxies_are_walked_from_the_right():
    forwarded = "1.2.3.4, 203.0.113.9, 10.1.5.5"
    assert client_address("10.0.0.2", forwarded, "10.0.0.2, 10.1.0.0/16") == "203.0.113.9"


def test_garbage_in_the_header_stops_at_the_last_vouched_address():
    assert client_address("10.0.0.2", "203.0.113.9, not-an-ip", "10.0.0.2") == "10.0.0.2"


def test_ipv6_peers_and_networks():
    assert client_address("fd00::1", "2001:db8::7", "fd00::/8") == "2001:db8::7"


@pytest.mark.parametrize(
    ("params", "token"),
    [
        (None, None),
        ({}, None),
        ({"authorization": "Bearer abc.def"}, "abc.def"),
        ({"Authorization": "bearer abc.def"}, "abc.def"),
        ({"token": " abc.def "}, "abc.def"),
    ],
)
def test_token_from_connection_init(params, token):
    assert token_from_connection_params(params) == token


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"authorization": "Basic dXNlcjpwdw=="}, "authorization"),
        ({"authorization": 42}, "authorization"),
        ({"token": ""}, "token"),
        ({"token": ["abc"]}, "token"),
    ],
)
def test_a_token_of_the_wrong_shape_is_an_error_naming_the_field(params, field):
    with pytest.raises(Invalid) as raised:
        token_from_connection_params(params)
    assert raised.value.field == field
