"""Identity's endpoints: parse, authorise, decide with `domain`, append, reply.

Rules that protect people's accounts, beyond the domain's:
- answers to register / resend / reset requests are the same whether or not an account
  exists; only mail tells the owner of an address what happened;
- unknown identifiers cost the same password-hashing time as wrong passwords;
- failed sign-ins and mail-sending requests are throttled across replicas (throttle.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


from proto import identity as api
from proto import subjects
from proto.common import Accepted, Caller
from proto.envelope import Event, new_id
from proto.errors import Conflict, Invalid, NotFound, Unauthenticated
from proto.privacy import EXPORT_SCOPE, CheckErasure, ErasureBlocker
from services.identity import domain, mails, replies, views
from services.identity.privacy import IdentityPersonalData
from services.kernel.claims import Claims
from services.identity.domain import AccountState
from services.identity.keys import KeyRing
from services.identity.revocations import Revoker
from services.identity.secrets import digest, hash_password, key_of, new_secret, split_refresh_token, verify_password
from services.identity.throttle import MailLimits, SignInThrottle
from services.identity.views import IdentityView
from services.kernel.background import stop_task
from services.kernel.clock import Clock
from services.kernel.commands import Decision
from services.kernel.endpoints import RequestContext
from services.kernel.eventstore import EventStore
from services.kernel.logging import get_logger
from services.kernel.outbox import enqueue
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings
from services.kernel.streams import ensure_kv
from services.kernel.tasks import Task, TaskKind, Tasks

log = get_logger("identity")


class MailTask(Task):
    """A link to mail, if the identifier (folded username or address) belongs to an account."""

    identifier: str


# Deferred so that asking about an address with an account costs what asking about one
# without costs: a request queues the task and answers; the mail follows from the queue.
PASSWORD_RESET_MAIL = TaskKind("password_reset_mail", MailTask)
CONFIRMATION_MAIL = TaskKind("confirmation_mail", MailTask)

KEY_REFRESH_INTERVAL = 60.0
WRONG_CREDENTIALS = "the username, email address or password is not right"

SENT = {
    "de": "Wir haben Ihnen eine E-Mail geschickt. Kommt sie nicht in einigen Minuten an, sehen Sie bitte "
          "auch im Spam-Ordner nach.",
    "en": "We have sent you an email. If it does not arrive within a few minutes, please look in your "
          "spam folder too.",
}


@dataclass(frozen=True)
class Changed:
    """An account after a command, and the event stored (None: nothing to change). After
    an erasure (`delete_account`), the account as it was before it."""

    state: AccountState
    event: Event | None


def sent(locale: str | None) -> Accepted:
    return Accepted(message=SENT["en" if locale == "en" else "de"])


class IdentityService(ServiceRuntime):
    name = "identity"

    def __init__(self, settings: Settings, clock: Clock):
        super().__init__(settings, clock, IdentityView(), api.ENDPOINTS)
        self._key_task: asyncio.Task[None] | None = None

    # ---- lifecycle -------------------------------------------------------------------

    async def on_start(self) -> None:
        assert self.js is not None
        replicas = self.settings.nats_stream_replicas
        self.usernames = Claims(await ensure_kv(self.js, subjects.KV_USERNAMES, replicas=replicas))
        self.emails = Claims(await ensure_kv(self.js, subjects.KV_EMAILS, replicas=replicas))
        self.throttle = SignInThrottle(
            await ensure_kv(self.js, subjects.KV_THROTTLE, ttl=timedelta(hours=1), replicas=replicas)
        )
        self.mail_limits = MailLimits(
            await ensure_kv(self.js, subjects.KV_MAIL_LIMITS, ttl=timedelta(hours=2), replicas=replicas)
        )
        self.revoker = Revoker(
            await ensure_kv(self.js, subjects.KV_REVOCATIONS, ttl=api.REVOCATION_RETENTION, replicas=replicas),
            self.clock,
        )
        self.privacy = IdentityPersonalData(lambda: self.db, self._event_store)
        self.keys = KeyRing(self.js, self.settings, self.clock)
        await self.keys.start()
        self._key_task = asyncio.create_task(self._refresh_keys(), name="identity-keys")
        self.tasks = Tasks(self.js, self.name, replicas)
        self.tasks.handle(PASSWORD_RESET_MAIL, self._send_reset_link)
        self.tasks.handle(CONFIRMATION_MAIL, self._send_confirmation_link)
        await self.tasks.start()

    async def on_stop(self) -> None:
        await self.tasks.stop()
        await stop_task(self._key_task)

    async def _refresh_keys(self) -> None:
        # Picks up a rotation made by another replica and rotates when due.
        while True:
            await asyncio.sleep(KEY_REFRESH_INTERVAL)
            try:
                await self.keys.refresh()
            except Exception:
                log.exception("identity.key_refresh_failed")

    def personal_data(self) -> IdentityPersonalData:
        return self.privacy

    # ---- helpers ---------------------------------------------------------------------

    def _event_store(self) -> EventStore:
        assert self.store is not None
        return self.store

    async def _change(
        self, account_id: str, decide: Callable[[AccountState], Event | None], by: str | None,
        loaded: AccountState | None = None,
    ) -> Changed:
        """Run one command on an account: load it once, decide once, append, and evolve the
        loaded state by the stored event (the view holds the same once this returns).

        `loaded`: the account as the handler already found it (by a link's hash, by
        identifier); decided on as it is, and read again only after a lost race. What the
        event voids is written to the revocation list before it is appended
        (services/identity/revocations.py says why that order).
        """
        decided: list[tuple[AccountState, Event | None]] = []

        async def decision() -> Decision | None:
            state = loaded if loaded is not None and not decided else await views.by_id(self.db, account_id)
            if state is None:
                raise NotFound("there is no such account")
            event = decide(state)
            decided[:] = [(state, event)]
            if event is None:
                return None
            if (voided := domain.revocation(state, event, self.clock.now())) is not None:
                await self.revoker.write(account_id, voided)
            return Decision("account", account_id, event, state.version)

        assert self.commands is not None
        appended = await self.commands.run(decision, by=by)
        state, event = decided[0]
        if appended is None or event is None:
            return Changed(state, None)
        after = domain.evolve(state, event, version=appended.seq, at=appended.envelope.occurred_at)
        # An erased account has no state after; the one it had is the last there is.
        return Changed(after if after is not None else state, event)

    async def _push_live(self, state: AccountState) -> None:
        """Tell the account's open apps (gateway subscriptions) what it looks like now."""
        if self.nc is not None:
            view = api.AccountView(account=replies.account(state))
            await self.nc.publish(subjects.live_account(state.id), view.model_dump_json().encode())

    async def _mail(self, kind: str, *, to: str, locale: str, path: str | None = None,
                    token: str | None = None, **values: str) -> None:
        if path and token:
            url: str | None = self.settings.link(f"{path}?token={token}")
        else:
            url = self.settings.link(path) if path else None
        assert self.js is not None
        await enqueue(self.js, mails.render(kind, to=to, locale=locale, action_url=url, **values))

    def _session_reply(self, state: AccountState, session_id: str, refresh_secret: str,
                       refresh_expires: datetime) -> api.Session:
        now = self.clock.now()
        expires = now + api.ACCESS_TOKEN_VALIDITY
        access = self.keys.sign({
            "sub": state.id, "role": state.role, "sid": session_id,
            # `ver`: the account version the token was issued from, which the revocation
            # list's cutoffs compare with (finer than `iat`, which counts whole seconds).
            "ver": state.version,
            "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "jti": new_id(),
        })
        return api.Session(
            access_token=access,
            access_expires_at=expires,
            refresh_token=f"{session_id}.{refresh_secret}",
            refresh_expires_at=refresh_expires,
            account=replies.account(state),
        )

    async def _claim_username(self, username: str, account_id: str) -> bool:
        async def still_held(holder: str) -> bool | None:
            state = await views.by_id(self.db, holder)
            return None if state is None else domain.username_key(state.username) == domain.username_key(username)

        return await self.usernames.claim(key_of(domain.username_key(username)), account_id, still_held,
                                          self.clock.now())

    async def _claim_email(self, email: str, account_id: str) -> bool:
        async def still_held(holder: str) -> bool | None:
            state = await views.by_id(self.db, holder)
            return None if state is None else state.email == domain.email_key(email)

        return await self.emails.claim(key_of(domain.email_key(email)), account_id, still_held, self.clock.now())

    # ---- registration ----------------------------------------------------------------

    async def register(self, req: api.Register, ctx: RequestContext) -> Accepted:
        now = self.clock.now()
        username = domain.check_username(req.username)
        email = domain.email_key(req.email)
        domain.check_password(req.password, field_name="password", username=username, email=email,
                              other_inputs=(req.display_name,))
        await self.mail_limits.take(email, ctx.caller.client_address, now, "email")
        # Hash before looking anything up: taken or free, the answer costs the same time.
        password_hash = await hash_password(req.password)
        account_id = new_id()
        if not await self._claim_username(username, account_id):
            owner = await views.by_email(self.db, email)
            if owner is not None:
                await self._mail("already-registered", to=owner.email, locale=owner.locale, path="/",
                                 name=owner.display_name, username=owner.username)
            else:
                await self._mail("username-taken", to=email, locale=req.locale, path="/", username=username)
            return sent(req.locale)
        if not await self._claim_email(email, account_id):
            await self.usernames.release(key_of(domain.username_key(username)), account_id)
            owner = await views.by_email(self.db, email)
            if owner is not None:
                await self._mail("already-registered", to=owner.email, locale=owner.locale, path="/",
                                 name=owner.display_name, username=owner.username)
            return sent(req.locale)
        token = new_secret()
        event = domain.decide_register(
            account_id=account_id, username=username, email=email, display_name=req.display_name,
            locale=req.locale, password_hash=password_hash, role="member", token_hash=digest(token), now=now,
        )

        async def decision() -> Decision:
            return Decision("account", account_id, event, 0)

        assert self.commands is not None
        await self.commands.run(decision, by=None)
        await self._mail("confirm-email", to=email, locale=req.locale, path="/confirm", token=token,
                         name=req.display_name, email=email)
        log.info("identity.registered", account_id=account_id)
        return sent(req.locale)

    async def resend_confirmation(self, req: api.ResendConfirmation, ctx: RequestContext) -> Accepted:
        # The same work whatever the address: count it, queue it, answer (see kernel/tasks.py).
        await self.mail_limits.take(domain.email_key(req.email), ctx.caller.client_address, self.clock.now(),
                                    "email")
        await self.tasks.defer(CONFIRMATION_MAIL, MailTask(identifier=domain.email_key(req.email)))
        return sent(req.locale)

    async def _send_confirmation_link(self, task: MailTask) -> None:
        state = await views.by_email(self.db, task.identifier)
        if state is None or state.email_confirmed:
            return  # only mail tells the owner of an address anything
        token = new_secret()
        await self._change(state.id, lambda s: domain.decide_issue_confirmation(
            s, email=s.email, token_hash=digest(token), now=self.clock.now()), by=None, loaded=state)
        await self._mail("confirm-email", to=state.email, locale=state.locale, path="/confirm", token=token,
                         name=state.display_name, email=state.email)

    async def confirm_email(self, req: api.ConfirmEmail, ctx: RequestContext) -> Accepted:
        now = self.clock.now()
        token_hash = digest(req.token)
        state = await views.by_confirm_hash(self.db, token_hash)
        if state is None:
            raise Invalid("this link is not valid any more; ask for a new one", "token")
        old_email = state.email
        new_email = state.pending_email
        if new_email:
            # The address moves: claim the new one first, so two accounts never share it.
            if not await self._claim_email(new_email, state.id):
                raise Conflict("this address already belongs to another account", "token")
        try:
            confirmed = await self._change(state.id, lambda s: domain.decide_confirm_email(
                s, token_hash=token_hash, now=now), by=state.id, loaded=state)
        except Exception:
            if new_email:
                await self.emails.release(key_of(new_email), state.id)
            raise
        if new_email:
            await self.emails.release(key_of(old_email), state.id)
        await self._push_live(confirmed.state)
        log.info("identity.email_confirmed", account_id=state.id)
        return Accepted(message="E-Mail-Adresse bestätigt." if state.locale != "en" else "Email address confirmed.")

    # ---- sessions --------------------------------------------------------------------

    async def sign_in(self, req: api.SignIn, ctx: RequestContext) -> api.Session:
        now = self.clock.now()
        identifier = domain.identifier_key(req.identifier)
        state = await views.by_identifier(self.db, identifier)
        # Throttled per identifier as typed (folded) and per client address — never per account:
        # a lock earned as "anna" must not follow to "anna@example.org", or the answer would
        # tell whether the two identifiers belong to one account.
        throttle_key = f"identifier:{identifier}"
        address = ctx.caller.client_address
        await self.throttle.check(throttle_key, address, now)
        if not await verify_password(state.password_hash if state else None, req.password) or state is None:
            await self.throttle.failed(throttle_key, address, now)
            raise Unauthenticated(WRONG_CREDENTIALS)
        await self.throttle.succeeded(throttle_key)
        session_id, secret = new_id(), new_secret()
        signed_in = await self._change(state.id, lambda s: domain.decide_sign_in(
            s, session_id=session_id, token_hash=digest(secret), now=now), by=state.id, loaded=state)
        assert isinstance(signed_in.event, api.SessionStarted)
        log.info("identity.signed_in", account_id=state.id, session_id=session_id)
        return self._session_reply(signed_in.state, session_id, secret, signed_in.event.expires_at)

    async def refresh_session(self, req: api.RefreshSession, ctx: RequestContext) -> api.Session:
        now = self.clock.now()
        parts = split_refresh_token(req.refresh_token)
        state = await views.by_session(self.db, parts[0]) if parts else None
        if parts is None or state is None:
            raise Unauthenticated("this session has ended; sign in again", "refreshToken")
        session_id, presented = parts
        secret = new_secret()
        refreshed = await self._change(state.id, lambda s: domain.decide_refresh(
            s, session_id=session_id, presented_hash=digest(presented), new_hash=digest(secret), now=now),
            by=state.id, loaded=state)
        if isinstance(refreshed.event, api.SessionEnded):
            log.warning("identity.refresh_token_reused", account_id=state.id, session_id=session_id)
            raise Unauthenticated("this session has ended; sign in again", "refreshToken")
        assert isinstance(refreshed.event, api.SessionRotated)
        return self._session_reply(refreshed.state, session_id, secret, refreshed.event.expires_at)

    async def sign_out(self, req: api.SignOut, ctx: RequestContext) -> Accepted:
        now = self.clock.now()
        parts = split_refresh_token(req.refresh_token)
        state = await views.by_session(self.db, parts[0]) if parts else None
        if parts and state:
            await self._change(state.id, lambda s: domain.decide_sign_out(
                s, session_id=parts[0], presented_hash=digest(parts[1]), now=now), by=state.id, loaded=state)
        return Accepted()

    async def sign_out_everywhere(self, req: api.SignOutEverywhere, ctx: RequestContext) -> Accepted:
        principal = ctx.principal()
        await self._change(principal.account_id, domain.decide_sign_out_everywhere, by=principal.account_id)
        return Accepted()

    # ---- passwords -------------------------------------------------------------------

    async def request_password_reset(self, req: api.RequestPasswordReset, ctx: RequestContext) -> Accepted:
        # The same work whatever the identifier: count it, queue it, answer (see kernel/tasks.py).
        identifier = domain.identifier_key(req.identifier)
        await self.mail_limits.take(identifier, ctx.caller.client_address, self.clock.now(), "identifier")
        await self.tasks.defer(PASSWORD_RESET_MAIL, MailTask(identifier=identifier))
        return sent(req.locale)

    async def _send_reset_link(self, task: MailTask) -> None:
        state = await views.by_identifier(self.db, task.identifier)
        if state is None:
            return  # only mail tells the owner of an address anything
        token = new_secret()
        await self._change(state.id, lambda s: domain.decide_request_reset(
            s, token_hash=digest(token), now=self.clock.now()), by=None, loaded=state)
        await self._mail("password-reset", to=state.email, locale=state.locale, path="/reset", token=token,
                         name=state.display_name)

    async def reset_password(self, req: api.ResetPassword, ctx: RequestContext) -> Accepted:
        now = self.clock.now()
        token_hash = digest(req.token)
        state = await views.by_reset_hash(self.db, token_hash)
        if state is None:
            raise Invalid("this link is not valid any more; ask for a new one", "token")
        if state.reset_expires is None or state.reset_expires <= now:
            raise Invalid("this link has expired; ask for a new one", "token")
        domain.check_password(req.new_password, field_name="newPassword", username=state.username,
                              email=state.email, other_inputs=(state.display_name,))
        password_hash = await hash_password(req.new_password)
        reset = await self._change(state.id, lambda s: domain.decide_reset_password(
            s, token_hash=token_hash, password_hash=password_hash, now=now), by=state.id, loaded=state)
        await self._mail("password-changed", to=state.email, locale=state.locale, name=state.display_name)
        await self._push_live(reset.state)
        log.info("identity.password_reset", account_id=state.id)
        return Accepted(message="Passwort geändert. Sie können sich jetzt anmelden." if state.locale != "en"
                        else "Password changed. You can sign in now.")

    async def change_password(self, req: api.ChangePassword, ctx: RequestContext) -> Accepted:
        principal = ctx.principal()
        now = self.clock.now()
        state = await views.by_id(self.db, principal.account_id)
        if state is None:
            raise Unauthenticated("sign in again")
        await self.throttle.check(state.id, ctx.caller.client_address, now)
        if not await verify_password(state.password_hash, req.current_password):
            await self.throttle.failed(state.id, ctx.caller.client_address, now)
            raise Invalid("the current password is not right", "currentPassword")
        domain.check_password(req.new_password, field_name="newPassword", username=state.username,
                              email=state.email, other_inputs=(state.display_name,))
        password_hash = await hash_password(req.new_password)
        await self._change(state.id, lambda s: domain.decide_change_password(
            s, password_hash=password_hash, kept_session_id=principal.session_id), by=state.id, loaded=state)
        await self._mail("password-changed", to=state.email, locale=state.locale, name=state.display_name)
        return Accepted()

    # ---- profile and address ---------------------------------------------------------

    async def change_email(self, req: api.ChangeEmail, ctx: RequestContext) -> Accepted:
        principal = ctx.principal()
        now = self.clock.now()
        state = await views.by_id(self.db, principal.account_id)
        if state is None:
            raise Unauthenticated("sign in again")
        new_email = domain.email_key(req.new_email)
        await self.throttle.check(state.id, ctx.caller.client_address, now)
        if not await verify_password(state.password_hash, req.password):
            await self.throttle.failed(state.id, ctx.caller.client_address, now)
            raise Invalid("the password is not right", "password")
        if new_email == state.email:
            raise Invalid("this is already your address", "newEmail")
        await self.mail_limits.take(new_email, ctx.caller.client_address, now, "newEmail")
        if await views.by_email(self.db, new_email) is not None:
            # Not told here (that would reveal whose address it is); the address's owner hears of it.
            await self._mail("email-in-use", to=new_email, locale=state.locale)
            return sent(state.locale)
        token = new_secret()
        issued = await self._change(state.id, lambda s: domain.decide_issue_confirmation(
            s, email=new_email, token_hash=digest(token), now=now, session_id=principal.session_id),
            by=state.id, loaded=state)
        await self._mail("confirm-new-email", to=new_email, locale=state.locale, path="/confirm", token=token,
                         name=state.display_name, email=new_email)
        await self._mail("email-change-notice", to=state.email, locale=state.locale, name=state.display_name)
        await self._push_live(issued.state)
        return sent(state.locale)

    async def update_profile(self, req: api.UpdateProfile, ctx: RequestContext) -> api.Account:
        principal = ctx.principal()
        updated = await self._change(principal.account_id, lambda s: domain.decide_update_profile(
            s, display_name=req.display_name, locale=req.locale), by=principal.account_id)
        await self._push_live(updated.state)
        return replies.account(updated.state)

    async def viewer(self, req: api.GetViewer, ctx: RequestContext) -> api.ViewerReply:
        principal = ctx.optional_principal()
        if principal is None:
            return api.ViewerReply(account=None)
        state = await views.by_id(self.db, principal.account_id)
        return api.ViewerReply(account=replies.account(state) if state else None)

    async def lookup_profiles(self, req: api.LookupProfiles, ctx: RequestContext) -> api.Profiles:
        ctx.principal()
        rows = await views.profiles(self.db, list(dict.fromkeys(req.ids)))
        return api.Profiles(profiles=[
            api.PublicProfile(id=r["id"], username=r["username"], display_name=r["display_name"]) for r in rows
        ])

    # ---- platform roles --------------------------------------------------------------

    async def create_admin(self, req: api.CreateAdmin, ctx: RequestContext) -> Accepted:
        """Operator only (deploy/ restricts who may publish identity.create_admin)."""
        now = self.clock.now()
        email = domain.email_key(req.email)
        existing = await views.by_email(self.db, email)
        if existing is not None:
            await self._change(existing.id, lambda s: None if s.role == "admin" else api.RoleChanged(role="admin"),
                               by=None)
            log.info("identity.admin_promoted", account_id=existing.id)
            return Accepted(message="the existing account with this address is an administrator now")
        username = domain.check_username(req.username)
        account_id = new_id()
        if not await self._claim_username(username, account_id):
            raise Conflict("this username is taken", "username")
        if not await self._claim_email(email, account_id):
            await self.usernames.release(key_of(domain.username_key(username)), account_id)
            raise Conflict("this address belongs to an account being created right now", "email")
        display_name = req.display_name or username
        event = domain.decide_register(
            account_id=account_id, username=username, email=email, display_name=display_name,
            locale=req.locale, password_hash=None, role="admin", token_hash=None, now=now,
        )

        async def decision() -> Decision:
            return Decision("account", account_id, event, 0)

        assert self.commands is not None
        await self.commands.run(decision, by=None)
        # Setting the password by the mailed link also confirms the address.
        token = new_secret()
        await self._change(account_id, lambda s: domain.decide_request_reset(
            s, token_hash=digest(token), now=now, validity=domain.ADMIN_SETUP_VALIDITY), by=None)
        await self._mail("admin-setup", to=email, locale=req.locale, path="/reset", token=token,
                         name=display_name, username=username)
        log.info("identity.admin_created", account_id=account_id)
        return Accepted(message="administrator created; a link to set the password was mailed")

    async def set_role(self, req: api.SetRole, ctx: RequestContext) -> api.Account:
        principal = ctx.principal()
        principal.require_admin()
        changed = await self._change(req.account_id, lambda s: domain.decide_set_role(
            s, role=req.role, by_account_id=principal.account_id), by=principal.account_id)
        await self._push_live(changed.state)
        return replies.account(changed.state)

    # ---- a person's data: export and erasure (services/identity/privacy.py) ----------

    async def request_data_export(self, req: api.RequestDataExport, ctx: RequestContext) -> Accepted:
        """Mailed, not answered: the data goes to the account's own mailbox, so a stolen
        session alone cannot take it. Limited like every request that sends mail."""
        principal = ctx.principal()
        now = self.clock.now()
        state = await views.by_id(self.db, principal.account_id)
        if state is None:
            raise Unauthenticated("sign in again")
        await self.mail_limits.take(state.email, ctx.caller.client_address, now, None)
        token = new_secret()
        await self._change(state.id, lambda s: domain.decide_request_export(s, token_hash=digest(token), now=now),
                           by=state.id, loaded=state)
        await self._mail("data-export", to=state.email, locale=state.locale, path="/my-data", token=token,
                         name=state.display_name)
        log.info("identity.data_export_requested", account_id=state.id)
        return sent(state.locale)

    async def open_data_export(self, req: api.OpenDataExport, ctx: RequestContext) -> api.DataExportGrant:
        """Spend the link (single use across replicas: the append expects the account's
        version) and hand out a credential that only `export_personal_data` accepts, for
        the minute the gathering takes."""
        now = self.clock.now()
        token_hash = digest(req.token)
        state = await views.by_export_hash(self.db, token_hash)
        if state is None:
            raise Invalid(domain.DEAD_EXPORT_LINK, "token")
        opened = await self._change(state.id, lambda s: domain.decide_open_export(s, token_hash=token_hash, now=now),
                                    by=state.id, loaded=state)
        expires = now + domain.EXPORT_CREDENTIAL_VALIDITY
        credential = self.keys.sign({
            "sub": state.id, "role": state.role, "scp": EXPORT_SCOPE, "ver": opened.state.version,
            "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "jti": new_id(),
        })
        log.info("identity.data_export_opened", account_id=state.id)
        return api.DataExportGrant(account_id=state.id, credential=credential, expires_at=expires)

    async def delete_account(self, req: api.DeleteAccount, ctx: RequestContext) -> Accepted:
        """Check the password (throttled like sign-in), ask every service what blocks the
        erasure, then append the tombstone: every token of the account is void at once
        (revocation list), its username and address are free again, and every service
        erases what it holds as it sees the tombstone (services/kernel/privacy.py)."""
        principal = ctx.principal()
        now = self.clock.now()
        state = await views.by_id(self.db, principal.account_id)
        if state is None:
            raise Unauthenticated("sign in again")
        await self.throttle.check(state.id, ctx.caller.client_address, now, "password")
        if not await verify_password(state.password_hash, req.password):
            await self.throttle.failed(state.id, ctx.caller.client_address, now)
            raise Invalid("the password is not right", "password")
        await self.throttle.succeeded(state.id)
        if blockers := await self._erasure_blockers(state, ctx.caller):
            raise Conflict(" ".join(b.message for b in blockers), "password")
        await self._change(state.id, domain.decide_delete_account, by=state.id, loaded=state)
        # Given back only now: a crash before this leaves claims whose account is gone, which
        # the next registration takes over after the grace period (services/kernel/claims.py).
        await self.usernames.release(key_of(domain.username_key(state.username)), state.id)
        await self.emails.release(key_of(state.email), state.id)
        if self.eraser is not None:
            self.eraser.wake()
        await self._mail("account-deleted", to=state.email, locale=state.locale)
        log.info("identity.account_deleted", account_id=state.id)
        return Accepted(message="Ihr Konto ist gelöscht." if state.locale != "en" else "Your account is deleted.")

    async def _erasure_blockers(self, state: AccountState, caller: Caller) -> list[ErasureBlocker]:
        """Identity's own, and every other holder's, asked as the person (their token): a
        service that does not answer stops the erasure rather than be skipped."""
        assert self.client is not None
        others = [c for c in self.client.holders() if c.erasure_blockers.endpoint.service != self.name]
        answers = await asyncio.gather(*(c.erasure_blockers(CheckErasure(), caller) for c in others))
        return [*await self.privacy.blockers(state.id), *(b for a in answers for b in a.blockers)]
