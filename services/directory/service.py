"""The directory's endpoints: parse, authorise, decide with `domain`, append, reply.

Every write runs through `_change`: load the actor from the view, refuse callers who may
not see it (NOT_FOUND, so a pending actor's existence does not leak), decide, append with
the actor's version as the expected sequence, answer from the view once it applied the
event. Reads answer from the view, shaped for the caller by `replies`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import inspect
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass


from proto import directory as api
from proto import identity
from proto import subjects
from proto.common import Accepted
from proto.envelope import Event, new_id, stable_id
from proto.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from proto.privacy import FORMER_MEMBER
from services.directory import domain, mails, regions, replies, search, views
from services.directory.domain import ActorState
from services.directory.privacy import DirectoryPersonalData
from services.directory.reactions import AccountsView
from services.directory.views import DirectoryView
from services.kernel import privacy
from services.kernel.auth import Principal
from services.kernel.clock import Clock
from services.kernel.claims import Claims
from services.kernel.commands import Decision
from services.kernel.endpoints import RequestContext
from services.kernel.follower import Follower
from services.kernel.logging import get_logger
from services.kernel.outbox import enqueue
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings
from services.kernel.streams import ensure_kv

log = get_logger("directory")

Decide = Callable[[ActorState], "Event | None | Awaitable[Event | None]"]
BeforeAppend = Callable[[ActorState, Event], Awaitable[None]]


@dataclass(frozen=True)
class Changed:
    """An actor after a command; `changed` False when the command found nothing to change."""

    state: ActorState
    changed: bool
    before: ActorState  # what the command decided on

SLUG_SUFFIXES = 50  # "name", "name-2" … "name-50": then the creator picks one
IMPORTS_IN_FLIGHT = 100  # rows of one import batch being written at once
COUNTS_KEPT = 256  # questions whose counts and facets are kept until the view changes


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DirectoryService(ServiceRuntime):
    name = "directory"

    def __init__(self, settings: Settings, clock: Clock):
        super().__init__(settings, clock, DirectoryView(), api.ENDPOINTS)
        self.accounts: Follower | None = None
        self._shipping: asyncio.Task[None] | None = None
        self._counted: OrderedDict[tuple[object, ...], tuple[int, int | None, api.Facets | None]] = OrderedDict()
        self._parsed = views.ParsedStates()  # for replies; commands load their own
        self.privacy = DirectoryPersonalData(self)

    def personal_data(self) -> DirectoryPersonalData:
        return self.privacy

    # ---- lifecycle -------------------------------------------------------------------

    async def on_start(self) -> None:
        assert self.js is not None and self.projector is not None
        replicas = self.settings.nats_stream_replicas
        self.slugs = Claims(await ensure_kv(self.js, subjects.KV_SLUGS, replicas=replicas))
        self.accounts = await self.follow_stream(identity.SERVICE, AccountsView())
        # The shipped regions, once: at the first start of the first replica. Another
        # replica starting at the same moment loses the append race, catches up, finds
        # them imported and appends nothing. A view still being rebuilt may not know yet
        # that they were imported long ago: then look once it has caught up.
        if self.projector.catching_up:
            self._shipping = asyncio.create_task(self._ship_regions(), name="directory-ship-regions")
        else:
            await self._ship_regions()

    async def _ship_regions(self) -> None:
        assert self.projector is not None
        await self.projector.caught_up.wait()
        await self.projector.catch_up()
        if await views.region_count(self.db) == 0:
            summary = await self._import_regions(regions.SHIPPED.read_text("utf-8"), by=None)
            log.info("directory.regions_shipped", created=summary.created)

    async def on_stop(self) -> None:
        if self._shipping is not None:
            self._shipping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._shipping

    # ---- helpers ---------------------------------------------------------------------

    async def _change(self, actor_id: str, principal: Principal, decide: Decide, *, must_see: bool = True,
                      before_append: BeforeAppend | None = None) -> Changed:
        """Run one command on an actor: load it once, decide once, append, and evolve the
        loaded state by the appended event for the reply (the view holds the same by then).

        `decide` may be a coroutine when the decision needs more facts from the view (the
        members' addresses); `before_append` runs after a decision and before its event is
        stored (claiming a new slug). Only a lost race loads and decides a second time.
        """
        decided: list[tuple[ActorState, Event | None]] = []

        async def decision() -> Decision | None:
            state = await views.load_actor(self.db, actor_id)
            if state is None:
                raise NotFound("there is no such actor", "actorId")
            if must_see:
                domain.require_visible(state, principal)
            event = decide(state)
            if inspect.isawaitable(event):
                event = await event
            decided[:] = [(state, event)]
            if event is None:
                return None
            if before_append is not None:
                await before_append(state, event)
            return Decision(api.AGGREGATE_ACTOR, actor_id, event, state.version)

        assert self.commands is not None
        appended = await self.commands.run(decision, by=principal.account_id)
        state, event = decided[0]
        if appended is None or event is None:
            return Changed(state, changed=False, before=state)
        after = domain.evolve(state, event, version=appended.seq, at=appended.envelope.occurred_at,
                              by=appended.envelope.by)
        return Changed(after, changed=True, before=state)

    async def _state(self, actor_id: str) -> ActorState:
        state = await views.load_actor(self.db, actor_id)
        if state is None:
            raise NotFound("there is no such actor", "actorId")
        return state

    async def _replies(self, states: list[ActorState], viewer: Principal | None) -> list[api.Actor]:
        keys: set[str] = set()
        members: set[str] = set()
        for state in states:
            keys |= replies.region_keys(state)
            members |= set(state.members)
        refs = await views.region_refs(self.db, keys)
        names = {a.id: a.display_name for a in (await views.accounts_by_ids(self.db, members)).values()}
        return [replies.actor(s, viewer=viewer, regions=refs, names=names) for s in states]

    async def _reply(self, state: ActorState, viewer: Principal | None) -> api.Actor:
        return (await self._replies([state], viewer))[0]

    async def _known(self, *lists: Collection[str] | None) -> set[str]:
        return await views.known_regions(self.db, [k for keys in lists if keys for k in keys])

    async def _claim_slug(self, base: str, actor_id: str, *, explicit: bool) -> str:
        async def still_held(holder: str) -> bool | None:
            state = await views.load_actor(self.db, holder)
            return None if state is None else state.profile.slug == candidate

        candidates = [base] if explicit else [base] + [f"{base}-{n}" for n in range(2, SLUG_SUFFIXES + 1)]
        for candidate in candidates:
            if await self.slugs.claim(candidate, actor_id, still_held, self.clock.now()):
                return candidate
        raise Conflict("this web address name is taken; choose another", "slug")

    async def _region(self, ags: str, field: str) -> api.Region:
        found = await views.region(self.db, ags)
        if found is None:
            raise Invalid(f"“{ags}” is not a known region key (AGS)", field)
        return found

    # ---- reading ---------------------------------------------------------------------

    async def search_actors(self, req: api.SearchActors, ctx: RequestContext) -> api.ActorConnection:
        viewer = ctx.optional_principal()
        f = req.filter
        if f.region is not None:
            await self._region(f.region, "filter.region")
        query = views.ActorQuery(
            words=search.terms(req.query or ""),
            kinds=list(dict.fromkeys(f.kinds)),
            topics=list(dict.fromkeys(f.topics)),
            languages=domain.check_languages(f.languages, "filter.languages"),
            region=f.region,
            visibility=views.Visibility(
                statuses=tuple(dict.fromkeys(f.status)) or ("approved",),
                account_id=viewer.account_id if viewer else None,
                admin=viewer is not None and viewer.is_admin,
            ),
        )
        offset = search.position(req.after)
        plan = await views.plan(self.db, query)
        # One more than the page: whether a next page exists, without counting every match.
        ids = await views.search_actors(self.db, plan, offset=offset, limit=req.first + 1)
        page, more = ids[: req.first], len(ids) > req.first
        total, facets = await self._counts(plan, req.with_total, req.with_facets)
        states = await views.read_actors(self.db, page, self._parsed)
        nodes = await self._replies([states[i] for i in page if i in states], viewer)
        edges = [api.ActorEdge(cursor=search.cursor(offset + n + 1), node=node) for n, node in enumerate(nodes)]
        return api.ActorConnection(
            edges=edges, page_info=self._page_info(offset, edges, more), total_count=total, facets=facets)

    async def _counts(self, plan: views.Plan, total: bool, facets: bool) -> tuple[int | None, api.Facets | None]:
        """Counts over every match, kept per question until the view changes: a popular
        question (the whole directory, one topic) costs one index walk per change, not per page."""
        assert self.projector is not None
        key = (plan, total, facets)
        cached = self._counted.get(key)
        if cached is not None and cached[0] == self.projector.applied:
            self._counted.move_to_end(key)
            return cached[1], cached[2]
        applied = self.projector.applied  # before reading: a change meanwhile makes the entry stale, not wrong
        counted = (await views.count(self.db, plan) if total else None,
                   await views.facets(self.db, plan) if facets else None)
        self._counted[key] = (applied, *counted)
        while len(self._counted) > COUNTS_KEPT:
            self._counted.popitem(last=False)
        return counted

    @staticmethod
    def _page_info(offset: int, edges: list, more: bool) -> api.PageInfo:
        return api.PageInfo(
            has_next_page=more,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )

    async def responsible_actors(self, req: api.ResponsibleActors,
                                 ctx: RequestContext) -> api.ResponsibleActorConnection:
        viewer = ctx.optional_principal()
        region = await self._region(req.region, "region")
        languages = domain.check_languages(req.languages, "languages")
        offset = search.position(req.after)
        found = await views.responsible(self.db, req.topic, req.region, languages, offset=offset,
                                        limit=req.first + 1)
        page, more = found[: req.first], len(found) > req.first
        total = await views.responsible_count(self.db, req.topic, req.region, languages) if req.with_total else None
        states = await views.read_actors(self.db, [s.actor_id for s in page], self._parsed)
        nodes = await self._replies([states[s.actor_id] for s in page], viewer)
        refs = await views.region_refs(self.db, {s.ags for s in page})
        edges = [
            api.ResponsibleActorEdge(cursor=search.cursor(offset + n + 1), node=api.ResponsibleActor(
                actor=node, served_via=refs[serving.ags], offering_ids=serving.offering_ids))
            for n, (serving, node) in enumerate(zip(page, nodes, strict=True))
        ]
        return api.ResponsibleActorConnection(region=region, edges=edges,
                                              page_info=self._page_info(offset, edges, more), total_count=total)

    async def region_coverage(self, req: api.GetRegionCoverage, ctx: RequestContext) -> api.RegionCoverage:
        region = await self._region(req.region, "region")
        counts = await views.coverage(self.db, req.region)
        topics = [
            api.TopicCoverage(topic=t, actors=counts.get(t, (0, 0))[0], offerings=counts.get(t, (0, 0))[1])
            for t in api.TOPIC_SLUGS
        ]
        return api.RegionCoverage(region=region, topics=topics,
                                  uncovered=[t.topic for t in topics if t.actors == 0])

    async def get_actor(self, req: api.GetActor, ctx: RequestContext) -> api.Actor:
        if (req.id is None) == (req.slug is None):
            raise Invalid("give either an id or a slug", "id")
        viewer = ctx.optional_principal()
        state = await self._actor_by(req)
        if state is None and self.commands and await self.commands.caught_up_further():  # created on another replica?
            state = await self._actor_by(req)
        if state is None or not domain.can_see(state, viewer):
            raise NotFound("there is no such actor", "id" if req.id is not None else "slug")
        return (await self._replies([state], viewer))[0]

    async def _actor_by(self, req: api.GetActor) -> ActorState | None:
        actor_id = req.id if req.id is not None else await views.actor_id_by_slug(self.db, req.slug or "")
        return (await views.read_actors(self.db, [actor_id], self._parsed)).get(actor_id) if actor_id else None

    async def get_actors(self, req: api.GetActors, ctx: RequestContext) -> api.ActorList:
        viewer = ctx.optional_principal()
        states = await views.read_actors(self.db, list(dict.fromkeys(req.ids)), self._parsed)
        visible = [s for s in states.values() if domain.can_see(s, viewer)]
        return api.ActorList(actors=await self._replies(visible, viewer))

    async def my_actors(self, req: api.MyActors, ctx: RequestContext) -> api.ActorList:
        principal = ctx.principal()
        ids = await views.actor_ids_of_member(self.db, principal.account_id)
        states = await views.load_actors(self.db, ids)
        return api.ActorList(actors=await self._replies([states[i] for i in ids if i in states], principal))

    async def get_region(self, req: api.GetRegion, ctx: RequestContext) -> api.Region:
        found = await views.region(self.db, req.ags)
        if found is None:
            raise NotFound("there is no region with this key", "ags")
        return found

    async def list_regions(self, req: api.ListRegions, ctx: RequestContext) -> api.RegionList:
        if req.parent is not None:
            await self._region(req.parent, "parent")
        found = await views.list_regions(self.db, parent=req.parent, level=req.level,
                                         words=search.terms(req.query or ""))
        return api.RegionList(regions=found)

    async def actor_history(self, req: api.GetActorHistory, ctx: RequestContext) -> api.ActorHistory:
        principal = ctx.principal()
        state = await self._state(req.actor_id)
        domain.require_visible(state, principal)
        if not domain.may_read_history(state, principal):
            raise Forbidden("only the actor's owners and administrators may read its history")
        offset = search.position(req.after)
        rows = await views.history(self.db, req.actor_id, offset=offset, limit=req.first + 1)
        page, more = rows[: req.first], len(rows) > req.first
        authors = [r["by"] for r in page if r["by"]]
        names = {a.id: a.display_name for a in (await views.accounts_by_ids(self.db, authors)).values()}
        # Changes by someone whose account was erased keep the opaque id, and no name.
        names |= dict.fromkeys(await privacy.erased(self.db, authors), FORMER_MEMBER)
        entries = [
            api.HistoryEntry(
                version=r["seq"], type=r["type"], occurred_at=r["occurred_at"], by=r["by"],
                by_display_name=names.get(r["by"]) if r["by"] else None,
                changes=json.loads(r["changes"]), subject=r["subject"],
            )
            for r in page
        ]
        return api.ActorHistory(entries=entries, page_info=api.PageInfo(
            has_next_page=more, has_previous_page=offset > 0,
            start_cursor=search.cursor(offset + 1) if page else None,
            end_cursor=search.cursor(offset + len(page)) if page else None,
        ))

    async def list_topics(self, req: api.ListTopics, ctx: RequestContext) -> api.Vocabulary:
        return api.Vocabulary(terms=list(api.TOPICS))

    async def list_kinds(self, req: api.ListKinds, ctx: RequestContext) -> api.Vocabulary:
        return api.Vocabulary(terms=list(api.ACTOR_KINDS))

    async def export_actors(self, req: api.ExportActors, ctx: RequestContext) -> api.ActorExport:
        # Replied as to an anonymous caller whatever token came along: an open-data export
        # must never carry what only signed-in people may see.
        ids = await views.approved_actor_ids(self.db, after=req.after, limit=req.first + 1)
        page, more = ids[: req.first], len(ids) > req.first
        states = await views.load_actors(self.db, page)
        actors = await self._replies([states[i] for i in page if i in states], None)
        return api.ActorExport(actors=actors, next_after=page[-1] if more else None)

    # ---- the actor -------------------------------------------------------------------

    async def create_actor(self, req: api.CreateActor, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        # With a client's key the id is the key's: a retry finds what the first attempt made.
        actor_id = (stable_id("create-actor", principal.account_id, req.idempotency_key)
                    if req.idempotency_key else new_id())
        if req.idempotency_key and (made := await views.load_actor(self.db, actor_id)) is not None:
            return await self._reply(made, principal)
        known = await self._known(req.regions)
        base = req.slug or domain.slugify(req.name)
        # Decide before claiming a slug: bad input must leave no trace.
        event = domain.decide_create(req, actor_id=actor_id, owner=principal, slug=base, known_regions=known)
        slug = await self._claim_slug(base, actor_id, explicit=req.slug is not None)
        event = domain.with_slug(event, slug)

        async def decision() -> Decision | None:
            # A twin request with the same key may have stored it meanwhile: then that one is the answer.
            if await views.load_actor(self.db, actor_id) is not None:
                return None
            return Decision(api.AGGREGATE_ACTOR, actor_id, event, 0)

        assert self.commands is not None
        try:
            appended = await self.commands.run(decision, by=principal.account_id)
        except Unavailable:
            # The event may be stored and only this view behind: the slug stays claimed (an
            # actor that never appeared loses its claim after the grace period, claims.py).
            raise
        except BaseException:
            await self.slugs.release(slug, actor_id)
            raise
        if appended is None:
            return await self._reply(await self._state(actor_id), principal)
        state = domain.evolve(None, event, version=appended.seq, at=appended.envelope.occurred_at,
                              by=principal.account_id)
        return await self._reply(state, principal)

    async def update_actor(self, req: api.UpdateActor, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        requested = await self._known(req.regions)
        claimed: list[str] = []

        async def claim_new_slug(state: ActorState, event: Event) -> None:
            # Only a permitted, valid change (the decision was made) may claim the new slug.
            assert isinstance(event, api.ActorUpdated)
            if event.profile.slug != state.profile.slug and event.profile.slug not in claimed:
                await self._claim_slug(event.profile.slug, req.actor_id, explicit=True)
                claimed.append(event.profile.slug)

        def decide(state: ActorState) -> Event | None:
            # Regions the actor names already count as known: a renamed file never drops a key.
            return domain.decide_update(state, req, principal, requested | replies.region_keys(state))

        try:
            outcome = await self._change(req.actor_id, principal, decide, before_append=claim_new_slug)
        except BaseException:
            for slug in claimed:
                await self.slugs.release(slug, req.actor_id)
            raise
        now_slug = outcome.state.profile.slug
        # The old slug once renamed, and any claimed in a lost race but not kept, go back.
        for slug in {*claimed, outcome.before.profile.slug} - {now_slug}:
            await self.slugs.release(slug, req.actor_id)
        return await self._reply(outcome.state, principal)

    async def approve_actor(self, req: api.ApproveActor, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        principal.require_admin()
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_approve(s, principal))
        if outcome.changed:
            await self._mail_decision(outcome.state, approved=True)
        return await self._reply(outcome.state, principal)

    async def reject_actor(self, req: api.RejectActor, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        principal.require_admin()
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_reject(s, principal, req.reason))
        if outcome.changed:
            await self._mail_decision(outcome.state, approved=False)
        return await self._reply(outcome.state, principal)

    async def _mail_decision(self, state: ActorState, *, approved: bool) -> None:
        # Sent after the event is stored: a crash in between loses a notice, never a decision.
        owners = await views.accounts_by_ids(self.db, state.owners)
        assert self.js is not None
        for owner in owners.values():
            await enqueue(self.js, mails.decision(
                to=owner.email, locale=owner.locale, name=owner.display_name, actor_name=state.profile.name,
                approved=approved, reason=state.rejection_reason,
                url=self.settings.link(f"/actors/{state.profile.slug}"),
            ))

    # ---- offerings and contact persons ----------------------------------------------

    async def add_offering(self, req: api.AddOffering, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        known = await self._known(req.regions)
        offering_id = new_id()
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_add_offering(
            s, req, principal, offering_id=offering_id, known_regions=known))
        reply = await self._reply(outcome.state, principal)
        return reply.model_copy(update={"added_id": offering_id})

    async def update_offering(self, req: api.UpdateOffering, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        requested = await self._known(req.regions)
        # Regions stored before count as known: a renamed file never drops a key.
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_update_offering(
            s, req, principal, requested | replies.region_keys(s)))
        return await self._reply(outcome.state, principal)

    async def remove_offering(self, req: api.RemoveOffering, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        outcome = await self._change(req.actor_id, principal,
                                     lambda s: domain.decide_remove_offering(s, req, principal))
        return await self._reply(outcome.state, principal)

    async def add_contact_person(self, req: api.AddContactPerson, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        person_id = new_id()
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_add_contact_person(
            s, req, principal, contact_person_id=person_id))
        reply = await self._reply(outcome.state, principal)
        return reply.model_copy(update={"added_id": person_id})

    async def update_contact_person(self, req: api.UpdateContactPerson, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        outcome = await self._change(req.actor_id, principal,
                                     lambda s: domain.decide_update_contact_person(s, req, principal))
        return await self._reply(outcome.state, principal)

    async def remove_contact_person(self, req: api.RemoveContactPerson, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        outcome = await self._change(req.actor_id, principal,
                                     lambda s: domain.decide_remove_contact_person(s, req, principal))
        return await self._reply(outcome.state, principal)

    # ---- members ---------------------------------------------------------------------

    async def invite_member(self, req: api.InviteMember, ctx: RequestContext) -> api.Invitation:
        principal = ctx.principal()
        token = secrets.token_urlsafe(32)
        invitation_id = new_id()
        now = self.clock.now()

        async def decide(state: ActorState) -> Event:
            member_emails = await views.emails_of(self.db, state.members)
            return domain.decide_invite(state, principal, email=req.email, role=req.role,
                                        invitation_id=invitation_id, token_hash=token_hash(token), now=now,
                                        member_emails=member_emails)

        state = (await self._change(req.actor_id, principal, decide)).state
        invitation = state.invitations[domain.email_key(req.email)]
        invitee = await views.account_by_email(self.db, invitation.email)
        inviter = (await views.accounts_by_ids(self.db, [principal.account_id])).get(principal.account_id)
        assert self.js is not None
        await enqueue(self.js, mails.invitation(
            to=invitation.email, locale=invitee.locale if invitee else req.locale,
            actor_name=state.profile.name, inviter=inviter.display_name if inviter else None,
            role=invitation.role, expires_at=invitation.expires_at,
            url=self.settings.link(f"/invitation?token={token}"),
        ))
        return api.Invitation(id=invitation.id, email=invitation.email, role=invitation.role,
                              invited_by=invitation.invited_by, created_at=invitation.created_at,
                              expires_at=invitation.expires_at)

    async def accept_invitation(self, req: api.AcceptInvitation, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        hashed = token_hash(req.token)
        actor_id = await views.actor_of_invitation(self.db, hashed)
        if actor_id is None and self.commands and await self.commands.caught_up_further():
            actor_id = await views.actor_of_invitation(self.db, hashed)  # invited through another replica
        if actor_id is None:
            raise Invalid("this invitation link is not valid any more: it was used or replaced by a newer one",
                          "token")
        now = self.clock.now()
        # The directory's copy of the account holds its confirmed address: identity lets
        # nobody sign in before confirming, and a new address counts once it is confirmed.
        account = (await views.accounts_by_ids(self.db, [principal.account_id])).get(principal.account_id)
        if account is None:
            raise Unavailable("your account is not known to the directory yet; try again in a moment")
        # The invitee is no member yet, so may not see a pending actor: the token (for their
        # address) is the permission.
        outcome = await self._change(actor_id, principal, lambda s: domain.decide_accept(
            s, principal, token_hash=hashed, now=now, accepting_email=account.email), must_see=False)
        return await self._reply(outcome.state, principal)

    async def describe_invitation(self, req: api.DescribeInvitation,
                                  ctx: RequestContext) -> api.InvitationSummary:
        """No sign-in needed: the token is the secret. Every dead token answers alike, so the
        page reveals nothing about links that do not work."""
        hashed = token_hash(req.token)
        actor_id = await views.actor_of_invitation(self.db, hashed)
        state = await views.load_actor(self.db, actor_id) if actor_id else None
        invitation = next((i for i in state.invitations.values() if i.token_hash == hashed), None) if state else None
        if state is None or invitation is None or invitation.expires_at <= self.clock.now():
            raise NotFound("this invitation link is not valid (any more)", "token")
        return api.InvitationSummary(actor_name=state.profile.name, role=invitation.role)

    async def change_member_role(self, req: api.ChangeMemberRole, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        outcome = await self._change(req.actor_id, principal, lambda s: domain.decide_change_role(
            s, principal, account_id=req.account_id, role=req.role))
        return await self._reply(outcome.state, principal)

    async def remove_member(self, req: api.RemoveMember, ctx: RequestContext) -> api.Actor:
        principal = ctx.principal()
        outcome = await self._change(req.actor_id, principal,
                                     lambda s: domain.decide_remove_member(s, principal, account_id=req.account_id))
        return await self._reply(outcome.state, principal)

    async def leave_actor(self, req: api.LeaveActor, ctx: RequestContext) -> Accepted:
        principal = ctx.principal()
        await self._change(req.actor_id, principal, lambda s: domain.decide_leave(s, principal))
        return Accepted()

    # ---- importing actors ------------------------------------------------------------

    async def import_actors(self, req: api.ImportActors, ctx: RequestContext) -> api.ActorsImportReport:
        """Operator only, as identity.create_admin: deploy/ lets only the operator publish
        directory.import_actors (the gateway is denied it by name), so no token is asked.
        Every row is checked before the first is written; one problem writes nothing.

        The rows of a batch are written side by side (claims and appends in flight
        together), so a batch answers in a fraction of the request timeout. Each imported
        actor's id is made from its row (`stable_id`), so a run cut short anywhere — even
        between a slug's claim and its event — is finished by running the import again:
        the claim is found to be the row's own, and an actor already stored is unchanged."""
        known = await self._known([key for row in req.actors for key in row.regions])
        actors, problems, profiles = await self._plan_import(req.actors, known)
        if problems or not req.commit:
            return api.ActorsImportReport(committed=False, actors=actors, problems=problems)
        done, trouble = await self._import_new(req.actors, actors, known, profiles)
        problems += trouble
        log.info("directory.actors_imported", created=sum(a.outcome == "created" for a in done),
                 unchanged=sum(a.outcome == "unchanged" for a in done), failed=len(problems))
        return api.ActorsImportReport(committed=True, actors=done, problems=problems)

    async def _plan_import(self, rows: list[api.CreateActor], known: set[str]
                           ) -> tuple[list[api.ImportedActor], list[api.ImportProblem], dict[int, api.ActorProfile]]:
        """What each row would do, its problems, and the profile each new row would store
        (checked here once: email, web address and phone checks are most of an import's cost)."""
        slugs = [domain.import_slug(row) for row in rows]
        folded = [search.fold(row.name) for row in rows]
        twins = domain.repeated(slugs) | domain.repeated(folded)
        by_slug, by_name = await views.holders(self.db, list(dict.fromkeys(slugs)), list(dict.fromkeys(folded)))
        holder_ids = [by_slug.get(slug) or by_name.get(name) for slug, name in zip(slugs, folded, strict=True)]
        held = await views.load_actors(self.db, [i for i in dict.fromkeys(holder_ids) if i])
        actors: list[api.ImportedActor] = []
        problems: list[api.ImportProblem] = []
        profiles: dict[int, api.ActorProfile] = {}
        for n, (row, slug, holder_id) in enumerate(zip(rows, slugs, holder_ids, strict=True)):
            profile = domain.import_profile(row, slug)
            found = [api.ImportProblem(row=n, field=e.field, message=e.message)
                     for e in domain.profile_problems(profile, known)]
            if n in twins:
                found.append(api.ImportProblem(row=n, field="name",
                                               message="another row of this import has the same name"))
            holder = held.get(holder_id) if holder_id else None
            if not found:
                profiles[n] = domain.stored_profile(profile, known)
            if holder is not None and not found:
                if holder.profile == profiles[n]:
                    actors.append(api.ImportedActor(row=n, actor_id=holder.id, slug=slug, outcome="unchanged"))
                    continue
            if holder is not None:
                found.append(api.ImportProblem(row=n, field="name", message=(
                    f"“{holder.profile.name}” is in the directory already (/actors/{holder.profile.slug}) "
                    "with other details; leave this row out or name it differently")))
            problems += found
            if not found:
                actors.append(api.ImportedActor(row=n, actor_id=None, slug=slug, outcome="new"))
        return actors, problems, profiles

    async def _import_new(self, rows: list[api.CreateActor], planned: list[api.ImportedActor], known: set[str],
                          profiles: dict[int, api.ActorProfile]
                          ) -> tuple[list[api.ImportedActor], list[api.ImportProblem]]:
        """Write a checked batch: every new row's slug claimed, then every event appended, side
        by side, and one wait for the view (CommandRunner.append_all)."""
        problems: list[api.ImportProblem] = []
        fresh = [p for p in planned if p.outcome != "unchanged"]
        ids = {p.row: stable_id("directory.import", p.slug, profiles[p.row].model_dump_json()) for p in fresh}
        slots = asyncio.Semaphore(IMPORTS_IN_FLIGHT)

        async def claim(p: api.ImportedActor) -> api.ImportProblem | None:
            async with slots:
                try:
                    await self._claim_slug(p.slug, ids[p.row], explicit=True)
                except Conflict as e:
                    # Someone took the name between the check and now; the rest still goes in,
                    # and importing the file again finds what this run created.
                    return api.ImportProblem(row=p.row, field="name", message=e.message)
            return None

        claimed = []
        for p, problem in zip(fresh, await asyncio.gather(*(claim(p) for p in fresh)), strict=True):
            if problem is None:
                claimed.append(p)
            else:
                problems.append(problem)
        # Stored already by an earlier run that was cut short after its appends: nothing to do.
        stored = set(await views.load_actors(self.db, [ids[p.row] for p in claimed]))
        to_append = [p for p in claimed if ids[p.row] not in stored]
        decisions = [Decision(api.AGGREGATE_ACTOR, ids[p.row], domain.decide_import(
            rows[p.row], actor_id=ids[p.row], slug=p.slug, known_regions=known, checked=profiles[p.row]), 0)
            for p in to_append]
        assert self.commands is not None
        # A lost race (None) means another run of the same import stored the same row first.
        await self.commands.append_all(decisions, by=None, in_flight=IMPORTS_IN_FLIGHT)
        written = {p.row for p in claimed}
        done = [p if p.outcome == "unchanged" else p.model_copy(update={"actor_id": ids[p.row], "outcome": "created"})
                for p in planned if p.outcome == "unchanged" or p.row in written]
        return done, problems

    # ---- regions ---------------------------------------------------------------------

    async def import_regions(self, req: api.ImportRegions, ctx: RequestContext) -> api.RegionsImportSummary:
        """Operator only: deploy/ denies everyone else, the gateway included, the subject (a
        call without a token is the operator's). A token, if one comes along, must be an admin's."""
        by = None
        if ctx.caller.token:
            principal = ctx.principal()
            principal.require_admin()
            by = principal.account_id
        return await self._import_regions(req.csv, by=by)

    async def _import_regions(self, text: str, *, by: str | None) -> api.RegionsImportSummary:
        known = await views.all_regions(self.db)
        rows = regions.parse(text, known)
        created = sum(1 for r in rows if r.ags not in known)
        updated = sum(1 for r in rows if r.ags in known and known[r.ags] != r)
        assert self.commands is not None
        events = regions.decide_import(rows, known)
        for event in events:
            async def decision(event: api.RegionsImported = event) -> Decision | None:
                # Re-decided on a lost race: only what is still missing after catching up.
                now_known = await views.all_regions(self.db)
                fresh = [r for r in event.regions if now_known.get(r.ags) != r]
                if not fresh:
                    return None
                version = await views.region_import_version(self.db, event.state_ags)
                return Decision(api.AGGREGATE_REGIONS, event.state_ags,
                                api.RegionsImported(state_ags=event.state_ags, regions=fresh), version)

            await self.commands.run(decision, by=by)
        return api.RegionsImportSummary(states=len({regions.state_of(r.ags) for r in rows}), created=created,
                                        updated=updated, unchanged=len(rows) - created - updated)
