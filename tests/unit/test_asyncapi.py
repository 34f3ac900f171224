"""proto/asyncapi.yaml is generated from the models; it must say what the code does."""

from __future__ import annotations

import yaml

from proto import asyncapi, identity


def test_the_checked_in_asyncapi_document_is_current():
    assert asyncapi.PATH.read_text(encoding="utf-8") == asyncapi.render(), (
        "proto/asyncapi.yaml is stale: run `make schema`"
    )


def test_every_identity_endpoint_and_event_is_documented():
    document = yaml.safe_load(asyncapi.render())
    for verb in identity.ENDPOINTS:
        assert document["channels"][f"identity.{verb}"]["address"] == f"identity.{verb}"
    events = document["channels"]["identity.events"]["messages"]
    assert "identity.account_registered" in events and "identity.password_reset" in events
    # No secret field in any request schema is documented without its model: passwords stay
    # in requests, and events carry hashes only.
    registered = document["components"]["schemas"]["AccountRegistered"]["properties"]
    assert "password_hash" in registered and "password" not in registered
