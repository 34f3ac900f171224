"""deploy/nats/permissions.conf: current with proto/subjects.py, and the rules it must keep."""

from __future__ import annotations

from lotse import nats_permissions as perms
from proto import directory, identity, subjects


def test_permissions_file_is_current():
    assert perms.PATH.read_text(encoding="utf-8") == perms.render(), "run `make schema`"


def publishes(user: str) -> set[str]:
    return {subject for _, group in perms.permissions()[user]["publish"] for subject in group}


def test_only_identity_writes_the_signing_keys():
    writers = [user for user in perms.USERS if f"$KV.{subjects.KV_JWKS}.>" in publishes(user)]
    assert writers == ["identity"]
    assert all(f"$KV.{subjects.KV_SIGNING_KEYS}.>" not in publishes(u) for u in perms.USERS if u != "identity")


def test_a_service_writes_only_its_own_events():
    for service in subjects.SERVICES:
        events = {s for s in publishes(service) if ".events." in s and not s.startswith("$")}
        assert events == {subjects.events_filter(service)}, service


def test_operator_endpoints_are_the_operators_alone():
    assert "create_admin" in identity.ENDPOINTS
    gateway = perms.permissions()["gateway"]
    assert "identity.create_admin" in gateway["deny"]
    assert "identity.create_admin" in publishes("operator")
    assert "import_actors" in directory.ENDPOINTS
    assert "directory.import_actors" in gateway["deny"]
    assert "directory.import_actors" in publishes("operator")


def test_the_operator_imports_regions_and_admins_still_may_through_the_gateway():
    assert "directory.import_regions" in publishes("operator")
    # Without a token these endpoints act for the operator: the gateway must never reach them.
    assert "directory.import_regions" in perms.permissions()["gateway"]["deny"]


def test_only_the_mailer_reads_the_mail_queue():
    readers = [u for u in subjects.SERVICES if f"$JS.ACK.{subjects.MAIL_STREAM}.>" in publishes(u)]
    assert readers == list(perms.MAIL_READERS)


def test_every_user_has_its_own_inbox_and_no_one_deletes_streams():
    for user in perms.USERS:
        rules = perms.permissions()[user]
        inboxes = [s for s in rules["subscribe"] if s.startswith("_INBOX")]
        assert inboxes == [f"_INBOX.{user}.>"], user
        if user != perms.OPERATOR:
            assert not any("STREAM.DELETE" in s or s == "$JS.API.>" for s in publishes(user)), user


def test_every_bucket_belongs_to_a_service():
    owners = perms.buckets()
    assert owners[subjects.KV_JWKS] == "identity"
    assert owners[subjects.KV_SLUGS] == "directory"


def test_only_identity_writes_the_revocation_list_and_everyone_else_reads_it():
    writers = [user for user in perms.USERS if f"$KV.{subjects.KV_REVOCATIONS}.>" in publishes(user)]
    assert writers == ["identity"]
    stream = perms.kv_stream(subjects.KV_REVOCATIONS)
    # Everyone who verifies tokens: open the bucket, read it and watch it with an ordered consumer.
    for user in (*subjects.SERVICES, perms.GATEWAY):
        rules = publishes(user)
        assert f"$JS.API.STREAM.INFO.{stream}" in rules, user
        assert f"$JS.API.CONSUMER.*.{stream}" in rules or f"$JS.API.CONSUMER.*.{stream}.>" in rules, user
        if user != "identity":  # nor take an entry back behind identity's back
            assert not {f"$JS.API.STREAM.{verb}.{stream}" for verb in ("UPDATE", "PURGE", "MSG.DELETE")} & rules
    assert subjects.KV_REVOCATIONS in perms.VERIFIER_BUCKETS and subjects.KV_JWKS in perms.VERIFIER_BUCKETS
