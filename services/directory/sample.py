"""Sample actors for `lotse dev` (never loaded in production: only the dev runner calls this).

Written through the service's own command path, as its endpoints write: the pure domain
decides (every rule and check of `create_actor`, `approve_actor`, `add_offering`,
`add_contact_person` applies), slugs are claimed in the bucket, events are appended
with the expected sequence and the view has applied them when `load` returns. Principals
are built in process for the sample accounts rather than minted as tokens: identity
signs tokens only at sign-in, and a token would prove nothing here that the process
doesn't already know. No mail is queued: the approvals are not news to anyone.

Idempotent step by step, keyed by slug and by the names of offerings and contact
persons, so a second run (or one after an interrupted first) adds only what is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proto import directory as api
from proto.envelope import new_id, stable_id
from services.directory import domain, views
from services.directory.domain import ActorState
from services.kernel.auth import Principal
from services.kernel.commands import Decision
from services.kernel.logging import get_logger

if TYPE_CHECKING:
    from services.directory.service import DirectoryService

log = get_logger("directory.sample")

# The organisations, their offerings and contact persons: data, read when loading.
SAMPLE_FILE = Path(__file__).with_name("data") / "sample-actors.json"


def sample_actors() -> list[dict[str, Any]]:
    actors: list[dict[str, Any]] = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))["actors"]
    return actors

# services/identity/sample.py ACCOUNTS, in the order `load` receives their ids.
ACCOUNT_NAMES = ("admin", "anna.schmidt", "mehmet.yilmaz", "julia.weber")


async def load(service: DirectoryService, account_ids: list[str]) -> None:
    """Create the sample actors that aren't there yet, approved by the sample admin."""
    if len(account_ids) != len(ACCOUNT_NAMES):
        raise ValueError(f"expected the ids of {', '.join(ACCOUNT_NAMES)}, got {len(account_ids)} ids")
    ids = dict(zip(ACCOUNT_NAMES, account_ids, strict=True))
    admin = Principal(account_id=ids["admin"], role="admin", session_id=None)
    created = 0
    actors = sample_actors()
    for sample in actors:
        owner = Principal(account_id=ids[sample["owner"]], role="member", session_id=None)
        actor_id, new = await _actor(service, sample, owner)
        created += new
        state = (await service._change(actor_id, admin, lambda s: domain.decide_approve(s, admin))).state
        state = await _offerings(service, state, sample["offerings"], owner)
        await _contacts(service, state, sample["contacts"], owner)
    log.info("directory.sample_loaded", actors=len(actors), created=created)


def _command(sample: dict[str, Any]) -> api.CreateActor:
    fields = {k: v for k, v in sample.items() if k not in ("owner", "offerings", "contacts")}
    return api.CreateActor.model_validate(fields)


async def _actor(service: DirectoryService, sample: dict[str, Any], owner: Principal) -> tuple[str, bool]:
    """The sample's actor id, and whether it was created now."""
    cmd = _command(sample)
    slug = domain.slugify(cmd.name)
    existing = await views.actor_id_by_slug(service.db, slug)
    if existing is not None:
        return existing, False
    actor_id = stable_id("sample-actor", slug)  # a rerun after a crash finds its own slug claim
    known = await service._known(cmd.regions)
    # Decide first: invalid sample data must fail before a slug is claimed.
    event = domain.decide_create(cmd, actor_id=actor_id, owner=owner, slug=slug, known_regions=known)
    await service._claim_slug(slug, actor_id, explicit=True)

    async def decision() -> Decision:
        return Decision(api.AGGREGATE_ACTOR, actor_id, event, 0)

    assert service.commands is not None
    await service.commands.run(decision, by=owner.account_id)
    return actor_id, True


async def _offerings(service: DirectoryService, state: ActorState, offerings: list[dict[str, Any]],
                     owner: Principal) -> ActorState:
    """Add the offerings the actor lacks (by name); the actor as it is then."""
    for values in offerings:
        if any(o.name == values["name"] for o in state.offerings.values()):
            continue
        cmd = api.AddOffering.model_validate({"actor_id": state.id, **values})
        known = await service._known(cmd.regions)
        offering_id = new_id()
        # Decided within this iteration (the command runs before the loop moves on).
        state = (await service._change(state.id, owner, lambda s: domain.decide_add_offering(
            s, cmd, owner, offering_id=offering_id, known_regions=known))).state
    return state


async def _contacts(service: DirectoryService, state: ActorState, people: list[dict[str, Any]],
                    owner: Principal) -> ActorState:
    """Add the contact persons the actor lacks (by name); the actor as it is then."""
    for values in people:
        if any(p.name == values["name"] for p in state.contact_persons.values()):
            continue
        cmd = api.AddContactPerson.model_validate({"actor_id": state.id, **values})
        person_id = new_id()
        state = (await service._change(state.id, owner, lambda s: domain.decide_add_contact_person(
            s, cmd, owner, contact_person_id=person_id))).state
    return state
