"""A credential issued for one purpose (`scp`, the data-export grant) is no access token,
and an access token is no such credential (services/kernel/auth.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from nats.js.kv import KeyValue

from proto import subjects
from proto.errors import Unauthenticated
from proto.identity import REVOCATION_RETENTION, RevokedTokens
from proto.privacy import EXPORT_SCOPE
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from tests.support.tokens import TestIssuer

ANNA = "01J000000000000000000ANNA0"


def entry(bucket: str, key: str, value: bytes) -> KeyValue.Entry:
    return KeyValue.Entry(bucket=bucket, key=key, value=value, revision=1, delta=0, created=None, operation=None)


@pytest.fixture
def setup() -> tuple[TokenVerifier, TestIssuer, Clock]:
    clock = Clock()
    issuer = TestIssuer(clock)
    verifier = TokenVerifier(clock)
    verifier._on_key(entry(subjects.KV_JWKS, issuer.kid, json.dumps(issuer.jwk()).encode()))  # as the watch does
    return verifier, issuer, clock


def test_a_scoped_credential_is_refused_as_an_access_token(setup):
    verifier, issuer, _ = setup
    credential = issuer.token(ANNA, scope=EXPORT_SCOPE, version=5)
    with pytest.raises(Unauthenticated):
        verifier.verify(credential)
    principal = verifier.verify_scoped(credential, EXPORT_SCOPE)
    assert (principal.account_id, principal.scope, principal.session_id) == (ANNA, EXPORT_SCOPE, None)


def test_an_access_token_or_another_scope_is_refused_where_a_scope_is_asked_for(setup):
    verifier, issuer, _ = setup
    access = issuer.token(ANNA)
    assert verifier.verify(access).scope is None
    for token in (access, issuer.token(ANNA, scope="something-else")):
        with pytest.raises(Unauthenticated):
            verifier.verify_scoped(token, EXPORT_SCOPE)


def test_a_scoped_credential_expires_and_is_voided_with_its_account(setup):
    verifier, issuer, clock = setup
    short = issuer.token(ANNA, scope=EXPORT_SCOPE, version=5, lifetime=timedelta(minutes=2))
    cutoff = RevokedTokens(issued_up_to=5, until=clock.now() + REVOCATION_RETENTION)
    verifier.revocations.apply(entry(subjects.KV_REVOCATIONS, subjects.revoked_tokens_key(ANNA),
                                     cutoff.model_dump_json().encode()))
    with pytest.raises(Unauthenticated, match="ended"):
        verifier.verify_scoped(short, EXPORT_SCOPE)  # the erasure's cutoff covers it
    later = issuer.token(ANNA, scope=EXPORT_SCOPE, version=6, lifetime=timedelta(minutes=2))
    assert verifier.verify_scoped(later, EXPORT_SCOPE).account_id == ANNA
    clock.advance(timedelta(minutes=3))
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify_scoped(later, EXPORT_SCOPE)


def test_a_scope_that_is_not_text_is_no_credential_at_all(setup):
    verifier, issuer, _ = setup
    with pytest.raises(Unauthenticated):
        verifier.verify_scoped(issuer.token(ANNA, scope=["personal-data-export"]), EXPORT_SCOPE)  # type: ignore
