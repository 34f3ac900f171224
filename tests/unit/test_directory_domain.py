"""The directory's rules, without I/O: every forbidden path, every check naming its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from proto import directory as api
from proto import privacy
from proto.errors import Conflict, Forbidden, Invalid, NotFound
from proto.validation import invalid_from
from services.directory import domain, regions, replies, search
from services.directory.domain import ActorState
from services.kernel.auth import Principal

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KNOWN = {"10", "10041", "10041100", "10042", "10042111"}

OWNER = Principal("owner", "member", None)
EDITOR = Principal("editor", "member", None)
STRANGER = Principal("stranger", "member", None)
ADMIN = Principal("admin", "admin", None)


def create_cmd(**overrides) -> api.CreateActor:
    values = {"kind": "housing-cooperative", "name": "Wohnungsbaugenossenschaft Saarbrücken eG",
              "regions": ["10041100"], "topics": ["housing"], "languages": ["de", "EN"]}
    return api.CreateActor.model_validate({**values, **overrides})


def apply(state: ActorState | None, event, by: str | None = None, at: datetime = T0) -> ActorState:
    version = (state.version if state else 0) + 1
    return domain.evolve(state, event, version=version, at=at, by=by)


def new_actor(**overrides) -> ActorState:
    event = domain.decide_create(create_cmd(**overrides), actor_id="a1", owner=OWNER, slug="wbg",
                                 known_regions=KNOWN)
    return apply(None, event, by=OWNER.account_id)


def with_editor(state: ActorState) -> ActorState:
    invited = domain.decide_invite(state, OWNER, email="Editor@Example.org", role="editor", invitation_id="i1",
                                   token_hash="h1", now=T0, member_emails=set())
    state = apply(state, invited, by=OWNER.account_id)
    accepted = domain.decide_accept(state, EDITOR, token_hash="h1", now=T0, accepting_email="editor@example.org")
    return apply(state, accepted, by=EDITOR.account_id)


def update(state: ActorState, principal: Principal = OWNER, **fields) -> api.ActorUpdated | None:
    cmd = api.UpdateActor.model_validate({"actor_id": state.id, "expected_version": state.version, **fields})
    return domain.decide_update(state, cmd, principal, KNOWN)


# ---- creating ------------------------------------------------------------------------

def test_a_new_actor_is_pending_and_owned_by_its_creator():
    state = new_actor()
    assert state.status == "pending"
    assert state.role_of("owner") == "owner"
    assert state.profile.languages == ["de", "en"]  # codes lower-cased
    assert not domain.can_see(state, None)
    assert not domain.can_see(state, STRANGER)
    assert domain.can_see(state, OWNER) and domain.can_see(state, ADMIN)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"regions": ["99999"]}, "regions"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": ["deu"]}, "languages"),
        ({"email": "not-an-address"}, "email"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "https://intranet"}, "website"),
        ({"phone": "12"}, "phone"),
        ({"phone": "call me"}, "phone"),
        ({"description": "<script>alert(1)</script>"}, "description"),
        ({"name": "Verein <b>fett</b>"}, "name"),
        ({"short_name": "<img src=x onerror=alert(1)>"}, "shortName"),
        ({"name": "Zeile\neins"}, "name"),
        ({"address": {"street": "Am Markt 1", "postal_code": "661", "locality": "Saarbrücken"}},
         "address.postalCode"),
        ({"address": {"locality": "Saarbrücken", "street": "<a href=x>1</a>"}}, "address.street"),
    ],
)
def test_bad_input_is_refused_naming_the_field(overrides, field):
    with pytest.raises(Invalid) as refused:
        new_actor(**overrides)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"description": "x" * 100_000}, "description"),
        ({"kind": "bakery"}, "kind"),
        ({"topics": ["cooking"]}, "topics.0"),
        ({"regions": []}, "regions"),
        ({"short_name": "x" * 61}, "shortName"),
    ],
)
def test_the_contract_refuses_malformed_requests_naming_the_field(payload, field):
    values = {"kind": "other", "name": "X", "regions": ["10"], **payload}
    with pytest.raises(ValidationError) as refused:
        api.CreateActor.model_validate(values)
    assert invalid_from(refused.value).field == field


def test_text_with_angle_brackets_or_ampersands_is_kept_as_given():
    state = new_actor(name="Jugend & Familie <3", description="Kinder < 6 Jahre & Eltern\nzweite Zeile")
    assert state.profile.name == "Jugend & Familie <3"
    assert state.profile.description == "Kinder < 6 Jahre & Eltern\nzweite Zeile"


def test_slugs_fold_german_and_fall_back_for_other_scripts():
    assert domain.slugify("Wohnungsbaugenossenschaft Saarbrücken eG") == "wohnungsbaugenossenschaft-saarbruecken-eg"
    assert domain.slugify("Straße der Begegnung – Café") == "strasse-der-begegnung-cafe"
    assert domain.slugify("جمعية") == "akteur"


# ---- updating ------------------------------------------------------------------------

def test_owners_and_editors_update_strangers_may_not():
    state = with_editor(new_actor())
    assert update(state, OWNER, name="Neuer Name").changed == ["name"]
    assert update(state, EDITOR, website="https://wbg-saar.de").changed == ["website"]
    with pytest.raises(Forbidden):
        update(state, STRANGER, name="Übernommen")
    with pytest.raises(Forbidden):
        update(state, ADMIN, name="Admins approve, they don't edit")


def test_a_stale_expected_version_is_a_conflict():
    state = new_actor()
    cmd = api.UpdateActor(actor_id=state.id, expected_version=state.version - 1, name="Alt")
    with pytest.raises(Conflict) as refused:
        domain.decide_update(state, cmd, OWNER, KNOWN)
    assert refused.value.field == "expectedVersion"


def test_partial_update_keeps_nulls_sets_values_and_clears_only_what_is_named():
    state = new_actor(website="https://wbg.de", phone="0681 5010")
    # Every field present and null, as a serializer may send them: nothing changes.
    assert update(state, **{name: None for name in api.ActorProfile.model_fields}) is None
    event = update(state, clear=["website"], short_name="WBG")
    assert event is not None and event.changed == ["short_name", "website"]
    assert event.profile.website is None and event.profile.phone == "0681 5010"
    with pytest.raises(Invalid) as refused:
        update(state, clear=["website"], website="https://neu.de")
    assert refused.value.field == "clear"
    with pytest.raises(Invalid) as refused:
        update(state, regions=[])
    assert refused.value.field == "regions"
    assert update(state, name=state.profile.name) is None  # nothing changed, nothing appended


def test_editing_a_rejected_actor_submits_it_again():
    state = apply(new_actor(), domain.decide_reject(new_actor(), ADMIN, "Bitte Adresse ergänzen"))
    assert state.status == "rejected"
    event = update(state, description="mit Adresse")
    assert event is not None and event.resubmitted
    assert apply(state, event).status == "pending"


# ---- review --------------------------------------------------------------------------

def test_only_admins_approve_or_reject():
    state = new_actor()
    for who in (OWNER, STRANGER):
        with pytest.raises(Forbidden):
            domain.decide_approve(state, who)
        with pytest.raises(Forbidden):
            domain.decide_reject(state, who, "nein")
    approved = apply(state, domain.decide_approve(state, ADMIN))
    assert approved.status == "approved" and domain.can_see(approved, None)
    assert domain.decide_approve(approved, ADMIN) is None


def test_a_rejection_reason_is_plain_text():
    with pytest.raises(Invalid) as refused:
        domain.decide_reject(new_actor(), ADMIN, "<script>x</script>")
    assert refused.value.field == "reason"


# ---- offerings and contact persons ---------------------------------------------------

def test_offerings_are_changed_by_editors_only_and_named_fields_are_checked():
    state = with_editor(new_actor())
    add = api.AddOffering(actor_id="a1", name="Wohnungssprechstunde", topics=["housing"], languages=["ar"])
    with pytest.raises(Forbidden):
        domain.decide_add_offering(state, add, STRANGER, offering_id="o1", known_regions=KNOWN)
    state = apply(state, domain.decide_add_offering(state, add, EDITOR, offering_id="o1", known_regions=KNOWN))
    assert state.offerings["o1"].languages == ["ar"]
    bad = api.UpdateOffering(actor_id="a1", offering_id="o1", regions=["12345678"])
    with pytest.raises(Invalid) as refused:
        domain.decide_update_offering(state, bad, EDITOR, KNOWN)
    assert refused.value.field == "regions"
    with pytest.raises(NotFound) as missing:
        domain.decide_remove_offering(state, api.RemoveOffering(actor_id="a1", offering_id="nope"), OWNER)
    assert missing.value.field == "offeringId"
    with pytest.raises(Forbidden):
        domain.decide_remove_offering(state, api.RemoveOffering(actor_id="a1", offering_id="o1"), STRANGER)


def test_contact_persons_personal_data_is_shown_to_signed_in_people_or_when_public():
    state = new_actor()
    hidden = api.AddContactPerson(actor_id="a1", name="Aylin Demir", function="Integrationsbeauftragte",
                                  email="a.demir@example.org", phone="0681 5010")
    state = apply(state, domain.decide_add_contact_person(state, hidden, OWNER, contact_person_id="p1"))
    public = api.AddContactPerson(actor_id="a1", name="Jonas Weber", public=True, email="j.weber@example.org")
    state = apply(state, domain.decide_add_contact_person(state, public, OWNER, contact_person_id="p2"))
    anonymous = replies.actor(state, viewer=None, regions={}, names={})
    p1, p2 = anonymous.contact_persons
    assert (p1.name, p1.email, p1.phone, p1.redacted) == (None, None, None, True)
    assert p1.function == "Integrationsbeauftragte"
    assert (p2.name, p2.email, p2.redacted) == ("Jonas Weber", "j.weber@example.org", False)
    signed_in = replies.actor(state, viewer=STRANGER, regions={}, names={})
    assert signed_in.contact_persons[0].name == "Aylin Demir"
    assert signed_in.members == [] and signed_in.invitations == []
    with pytest.raises(Invalid) as refused:
        domain.decide_add_contact_person(
            state, api.AddContactPerson(actor_id="a1", name="X", email="x@"), OWNER, contact_person_id="p3")
    assert refused.value.field == "email"
    with pytest.raises(Forbidden):
        domain.decide_update_contact_person(
            state, api.UpdateContactPerson(actor_id="a1", contact_person_id="p1", public=True), STRANGER)


# ---- members -------------------------------------------------------------------------

def test_only_owners_invite_and_members_are_not_invited_again():
    state = with_editor(new_actor())
    with pytest.raises(Forbidden):
        domain.decide_invite(state, EDITOR, email="x@example.org", role="editor", invitation_id="i2",
                             token_hash="h2", now=T0, member_emails=set())
    with pytest.raises(Conflict) as refused:
        domain.decide_invite(state, OWNER, email="EDITOR@example.org", role="owner", invitation_id="i2",
                             token_hash="h2", now=T0, member_emails={"editor@example.org"})
    assert refused.value.field == "email"
    with pytest.raises(Invalid) as bad:
        domain.decide_invite(state, OWNER, email="no address", role="editor", invitation_id="i2",
                             token_hash="h2", now=T0, member_emails=set())
    assert bad.value.field == "email"


def test_a_repeated_invitation_replaces_the_older_one():
    state = new_actor()
    first = domain.decide_invite(state, OWNER, email="neu@example.org", role="editor", invitation_id="i1",
                                 token_hash="old", now=T0, member_emails=set())
    state = apply(state, first)
    second = domain.decide_invite(state, OWNER, email="Neu@Example.org", role="owner", invitation_id="i2",
                                  token_hash="new", now=T0, member_emails=set())
    assert second.replaces == "i1"
    state = apply(state, second)
    with pytest.raises(Invalid) as refused:
        domain.decide_accept(state, STRANGER, token_hash="old", now=T0, accepting_email="neu@example.org")
    assert refused.value.field == "token"
    joined = apply(state, domain.decide_accept(state, STRANGER, token_hash="new", now=T0,
                                              accepting_email="neu@example.org"))
    assert joined.role_of("stranger") == "owner"
    with pytest.raises(Invalid):  # single use
        domain.decide_accept(joined, Principal("other", "member", None), token_hash="new", now=T0,
                             accepting_email="neu@example.org")


def test_an_invitation_is_for_the_address_it_was_sent_to_not_for_whoever_holds_the_link():
    state = new_actor()
    state = apply(state, domain.decide_invite(state, OWNER, email="Chefin@Example.org", role="owner",
                                              invitation_id="i1", token_hash="h", now=T0, member_emails=set()))
    with pytest.raises(Forbidden) as refused:
        domain.decide_accept(state, STRANGER, token_hash="h", now=T0, accepting_email="someone.else@example.org")
    assert refused.value.field == "token" and "another address" in refused.value.message
    accepted = domain.decide_accept(state, STRANGER, token_hash="h", now=T0, accepting_email="CHEFIN@example.org")
    assert (accepted.account_id, accepted.role) == ("stranger", "owner")


def test_an_invitation_expires_after_72_hours():
    state = new_actor()
    state = apply(state, domain.decide_invite(state, OWNER, email="n@example.org", role="editor",
                                              invitation_id="i1", token_hash="h", now=T0, member_emails=set()))
    domain.decide_accept(state, STRANGER, token_hash="h", now=T0 + timedelta(hours=71),
                         accepting_email="n@example.org")
    with pytest.raises(Invalid) as refused:
        domain.decide_accept(state, STRANGER, token_hash="h", now=T0 + timedelta(hours=72),
                             accepting_email="n@example.org")
    assert "expired" in refused.value.message


def test_only_owners_manage_members_and_the_last_owner_stays():
    state = with_editor(new_actor())
    with pytest.raises(Forbidden):
        domain.decide_change_role(state, EDITOR, account_id="editor", role="owner")
    with pytest.raises(Forbidden):
        domain.decide_remove_member(state, EDITOR, account_id="owner")
    with pytest.raises(Conflict):
        domain.decide_change_role(state, OWNER, account_id="owner", role="editor")
    with pytest.raises(Conflict):
        domain.decide_remove_member(state, OWNER, account_id="owner")
    with pytest.raises(Conflict):
        domain.decide_leave(state, OWNER)
    with pytest.raises(NotFound):
        domain.decide_leave(state, STRANGER)
    with pytest.raises(NotFound):
        domain.decide_change_role(state, OWNER, account_id="stranger", role="owner")
    # With a second owner, the first may step down or leave.
    state = apply(state, domain.decide_change_role(state, OWNER, account_id="editor", role="owner"))
    state = apply(state, domain.decide_leave(state, OWNER))
    assert state.owners == ["editor"]
    with pytest.raises(Conflict):  # now the last owner is the former editor
        domain.decide_leave(state, EDITOR)


def test_history_descriptions_name_fields_and_never_tokens():
    state = new_actor()
    event = domain.decide_invite(state, OWNER, email="n@example.org", role="editor", invitation_id="i1",
                                 token_hash="secret-hash", now=T0, member_emails=set())
    changes, about = domain.describe(event, state)
    assert changes == ["invitations"] and about == "n@example.org"
    changes, _ = domain.describe(update(state, short_name="WBG", phone="0681 5010"), state)
    assert changes == ["shortName", "phone"]


# ---- search folding ------------------------------------------------------------------

def test_folding_matches_umlauts_and_sharp_s_to_their_ascii_spellings():
    assert search.fold("Straße München ÄÖÜ") == "strasse muenchen aeoeue"
    assert search.terms("Müller,  Strasse!") == ["mueller", "strasse"]
    assert "muller" in search.fold_variants("Müller") and "mueller" in search.fold_variants("Müller")
    assert search.fold_variants("Beratung") == "beratung"
    assert search.fold("Çiğdem Café") == "cigdem cafe"


def test_index_expressions_quote_every_word_as_a_prefix_of_the_text_columns():
    assert search.text_expression(["wohnung", "eg"]) == (
        '{name short_name body} : "wohnung"* AND {name short_name body} : "eg"*')
    assert search.text_expression([]) is None
    assert search.terms('wohnung" OR NEAR(x') == ["wohnung", "or", "near", "x"]  # no FTS syntax survives
    assert search.any_of([search.tag("t", "housing"), search.tag("w", "10041")]) == '("_t_housing" OR "_w_10041")'


def test_the_index_holds_every_suffix_of_every_word_in_both_folds():
    indexed = search.index_text("Wohnungsbaugenossenschaft Müller").split()
    assert "wohnungsbaugenossenschaft" in indexed and "genossenschaft" in indexed and "t" in indexed
    assert "mueller" in indexed and "muller" in indexed and "ller" in indexed
    assert search.index_words("Straße Beratung") == ["strasse", "beratung"]  # ß folds alike both ways
    assert all(not word.startswith("_") for word in indexed)  # never a tag


def test_cursors_round_trip_and_foreign_ones_are_refused():
    assert search.position(search.cursor(40)) == 40
    with pytest.raises(Invalid) as refused:
        search.position("bm90LWEtY3Vyc29y")
    assert refused.value.field == "after"


# ---- regions -------------------------------------------------------------------------

def test_the_shipped_regions_are_one_complete_state():
    rows = regions.parse(regions.SHIPPED.read_text("utf-8"))
    levels = [r.level for r in rows]
    assert levels.count("state") == 1 and levels.count("district") == 6 and levels.count("municipality") == 52
    events = regions.decide_import(rows, {})
    assert [e.state_ags for e in events] == ["10"]
    # Importing the same regions again decides nothing.
    assert regions.decide_import(rows, {r.ags: r for r in rows}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("10,Saarland,state,\n1004,Kurz,district,10\n", "5 digits"),
        ("10,Saarland,state,\n10041,A,district,10\n10042100,B,municipality,10041\n", "by its key"),
        ("10041,A,district,10\n", "neither in the file nor imported"),
        ("10,Saarland,state,\n10,Saarland,state,\n", "twice"),
        ("10,Saarland,land,\n", "level"),
        ("10,<b>Saar</b>,state,\n", "HTML"),
    ],
)
def test_a_bad_regions_file_is_refused_naming_the_line(body, message):
    with pytest.raises(Invalid) as refused:
        regions.parse("# source: test\nags,name,level,parent_ags\n" + body)
    assert refused.value.field == "csv" and message in refused.value.message and "line" in refused.value.message


def test_a_file_may_build_on_regions_imported_before_and_splits_by_state():
    known = {r.ags: r for r in regions.parse(regions.SHIPPED.read_text("utf-8"))}
    rows = regions.parse("ags,name,level,parent_ags\n10041999,Neu,municipality,10041\n", known)
    assert [e.regions for e in regions.decide_import(rows, known)] == [rows]
    parts = regions.split_by_state("# c\nags,name,level,parent_ags\n10,S,state,\n11,B,state,\n10041,D,district,10\n")
    assert parts == ["ags,name,level,parent_ags\n10,S,state,\n10041,D,district,10\n",
                     "ags,name,level,parent_ags\n11,B,state,\n"]


# ---- importing -----------------------------------------------------------------------

def imported(**overrides) -> ActorState:
    row = create_cmd(**overrides)
    event = domain.decide_import(row, actor_id="a9", slug=domain.import_slug(row), known_regions=KNOWN)
    return apply(None, event)


def test_an_imported_actor_is_approved_at_once_and_owned_by_nobody():
    state = imported()
    assert (state.status, state.members, state.profile.slug) == (
        "approved", {}, "wohnungsbaugenossenschaft-saarbruecken-eg")
    assert state.reviewed_at == T0 and domain.can_see(state, None)
    with pytest.raises(Invalid) as refused:
        imported(regions=["99999"])
    assert refused.value.field == "regions"


def test_an_admin_invites_the_first_owner_of_an_imported_actor_and_no_one_else_may():
    state = imported()
    with pytest.raises(Forbidden):
        domain.decide_invite(state, STRANGER, email="chefin@example.org", role="owner", invitation_id="i1",
                             token_hash="h", now=T0, member_emails=set())
    invited = domain.decide_invite(state, ADMIN, email="chefin@example.org", role="owner", invitation_id="i1",
                                   token_hash="h", now=T0, member_emails=set())
    state = apply(state, invited, by=ADMIN.account_id)
    state = apply(state, domain.decide_accept(state, OWNER, token_hash="h", now=T0,
                                              accepting_email="chefin@example.org"))
    assert state.owners == ["owner"]


def test_profile_problems_names_every_bad_field_where_check_profile_stops_at_the_first():
    profile = domain.import_profile(create_cmd(email="nope", phone="12", languages=["xx"],
                                               regions=["99999"]), "wbg")
    problems = domain.profile_problems(profile, KNOWN)
    assert [p.field for p in problems] == ["email", "phone", "regions", "languages"]
    with pytest.raises(Invalid) as first:
        domain.check_profile(profile, KNOWN)
    assert first.value.field == "email"


def test_repeated_points_each_later_key_at_its_first():
    assert domain.repeated(["a", "b", "a", "c", "b", "a"]) == {2: 0, 4: 1, 5: 0}


# ---- a person's data: redaction, blockers, the export section ---------------------------

ERIKA = "erika@example.org"


def erika_everywhere() -> tuple[ActorState, list[api.HistoryRecord], list]:
    """An actor where Erika (the editor, address ERIKA) is a member, a contact person, invited
    (again, as owner), and the address of an offering; plus its history and events."""
    state = new_actor(email=ERIKA.upper())
    events: list = []

    def step(event, by: str | None = OWNER.account_id) -> None:
        nonlocal state
        events.append(event)
        state = apply(state, event, by=by)

    invited = domain.decide_invite(state, OWNER, email=ERIKA, role="editor", invitation_id="i1",
                                   token_hash="h1", now=T0, member_emails=set())
    step(invited)
    step(domain.decide_accept(state, Principal("erika", "member", None), token_hash="h1", now=T0,
                              accepting_email=ERIKA), by="erika")
    person = api.AddContactPerson(actor_id="a1", name="Erika Müßig", email="Erika@Example.org")
    step(domain.decide_add_contact_person(state, person, OWNER, contact_person_id="c1"))
    other = api.AddContactPerson(actor_id="a1", name="Jonas Andere", email="jonas@example.org")
    step(domain.decide_add_contact_person(state, other, OWNER, contact_person_id="c2"))
    offering = api.AddOffering(actor_id="a1", name="Sprachcafé", email=ERIKA)
    step(domain.decide_add_offering(state, offering, OWNER, offering_id="o1", known_regions=KNOWN))
    step(update(state, Principal("erika", "member", None), description="neu"), by="erika")
    step(domain.decide_invite(state, OWNER, email=ERIKA, role="owner", invitation_id="i2", token_hash="h2",
                              now=T0, member_emails=set()))
    history, before = [], None
    for seq, event in enumerate(events, start=2):
        changes, about = domain.describe(event, before)
        history.append(api.HistoryRecord(seq=seq, type=event.TYPE.removeprefix("directory."), occurred_at=T0,
                                         by="erika" if seq in (3, 7) else OWNER.account_id, changes=changes,
                                         subject=about))
    return state, history, events


def test_a_redaction_takes_the_person_out_of_the_actor_and_keeps_everyone_else():
    state, history, events = erika_everywhere()
    names = domain.contact_names(events, {ERIKA})
    assert names == {"Erika Müßig".casefold()}
    redacted = domain.redact(state, history, account_id="erika", addresses={ERIKA}, names=names)
    record = redacted.actor
    assert (redacted.actor_id, redacted.account_id) == ("a1", "erika")
    assert set(record.members) == {"owner"} and record.invitations == {}
    assert set(record.contact_persons) == {"c2"}  # Jonas stays
    assert record.profile.email is None and record.offerings["o1"].email is None
    assert record.profile.description == "neu" and record.offerings["o1"].name == "Sprachcafé"
    subjects = {(line.type, line.subject) for line in redacted.history}
    assert ("member_invited", privacy.FORMER_MEMBER) in subjects
    assert ("invitation_accepted", privacy.FORMER_MEMBER) in subjects
    assert ("contact_person_added", privacy.FORMER_MEMBER) in subjects
    assert ("contact_person_added", "Jonas Andere") in subjects
    assert ERIKA not in str(redacted.model_dump()).lower() and "müßig" not in str(redacted.model_dump())
    assert [line.by for line in redacted.history] == [line.by for line in history]  # authors stay, as ids
    assert not domain.holds_person(domain.evolve(state, redacted, version=99, at=T0, by=None), "erika", {ERIKA})
    assert domain.holds_person(state, "erika", {ERIKA}) and domain.holds_person(state, "erika", set())


def test_a_snapshot_is_the_whole_actor_for_a_view_that_starts_there():
    state, history, events = erika_everywhere()
    redacted = domain.redact(state, history, account_id="erika", addresses={ERIKA},
                             names=domain.contact_names(events, {ERIKA}))
    rebuilt = domain.evolve(None, redacted, version=42, at=T0, by=None)
    assert rebuilt.version == 42
    assert rebuilt.model_dump(exclude={"version"}) == redacted.actor.model_dump(exclude={"version"})
    assert domain.mentioned_addresses(redacted) == {"jonas@example.org"}  # all that is left to find


def test_history_lines_after_the_state_it_was_decided_on_are_not_carried():
    state, history, events = erika_everywhere()
    later = api.HistoryRecord(seq=state.version + 1, type="actor_updated", occurred_at=T0, by="owner",
                              changes=["name"], subject=None)
    redacted = domain.redact(state, [*history, later], account_id="erika", addresses={ERIKA}, names=set())
    assert [line.seq for line in redacted.history] == [line.seq for line in history]


def test_every_address_an_event_mentions_is_indexed_folded():
    state, _, events = erika_everywhere()
    assert domain.mentioned_addresses(events[0]) == {ERIKA}  # the invitation
    assert domain.mentioned_addresses(events[3]) == {"jonas@example.org"}
    assert domain.mentioned_addresses(api.ActorApproved(actor_id="a1")) == set()
    created = domain.decide_create(create_cmd(email="Info@WBG.example"), actor_id="a2", owner=OWNER, slug="wbg-2",
                                   known_regions=KNOWN)
    assert domain.mentioned_addresses(created) == {"info@wbg.example"}


def test_the_last_owner_is_blocked_and_told_which_actors():
    alone = new_actor(name="Haus Öztürk")
    shared = apply(with_editor(new_actor(name="Treff Linde")), api.MemberRoleChanged(
        actor_id="a1", account_id="editor", role="owner"))
    assert [s.profile.name for s in domain.last_owner_of([alone, shared], "owner")] == ["Haus Öztürk"]
    blocker = domain.erasure_blocker(domain.last_owner_of([alone, shared], "owner"))
    assert blocker is not None and blocker.names == ["Haus Öztürk"] and "“Haus Öztürk”" in blocker.message
    assert domain.last_owner_of([with_editor(new_actor())], "editor") == []  # an editor blocks nothing
    assert domain.erasure_blocker([]) is None


def test_the_export_section_holds_the_persons_data_and_nobody_elses():
    state, history, _ = erika_everywhere()
    section = replies.personal_data(
        account_id="erika", account={"email": ERIKA, "display_name": "Erika", "locale": "de"},
        states={state.id: state}, history=[(state.id, line) for line in history if line.by == "erika"],
        addresses={ERIKA})
    assert [(m["actor_id"], m["role"]) for m in section["memberships"]] == [("a1", "editor")]
    assert [i["role"] for i in section["invitations"]] == ["owner"]
    assert [c["contact_person_id"] for c in section["contact_entries"]] == ["c1"]
    assert {h["type"] for h in section["history"]} == {"invitation_accepted", "actor_updated"}
    # Her own acceptance names her account: left out with every subject that names a person.
    assert all(h["subject"] is None for h in section["history"])
    assert "jonas" not in str(section).lower() and "owner" not in {m["role"] for m in section["memberships"]}
