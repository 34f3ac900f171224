"""Sample accounts for `lotse dev` (never loaded in production: only the dev runner calls this).

They share one documented password so a developer can sign in at once; README.md lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proto.envelope import stable_id
from proto.identity import EmailConfirmed, Role
from services.identity import domain, views
from services.identity.secrets import hash_password

if TYPE_CHECKING:
    from services.identity.service import IdentityService

SAMPLE_PASSWORD = "Lotse-Beispiel-2026!"

# (username, email, display name, locale, role)
ACCOUNTS: list[tuple[str, str, str, str, Role]] = [
    ("admin", "admin@lotse.example", "Lotse-Administration", "de", "admin"),
    ("anna.schmidt", "anna.schmidt@lotse.example", "Anna Schmidt", "de", "member"),
    ("mehmet.yilmaz", "mehmet.yilmaz@lotse.example", "Mehmet Yılmaz", "de", "member"),
    ("julia.weber", "julia.weber@lotse.example", "Julia Weber", "en", "member"),
]


async def load(service: IdentityService) -> list[str]:
    """Create what is missing of the sample accounts; return their ids in ACCOUNTS order.

    Safe to run again after it was interrupted anywhere: claims, registration and
    confirmation are each checked before they are made.
    """
    password_hash = await hash_password(SAMPLE_PASSWORD)
    assert service.store is not None and service.projector is not None
    ids = []
    for username, email, display_name, locale, role in ACCOUNTS:
        account_id = stable_id("sample-account", username)  # a rerun finds its own claims
        state = await views.by_id(service.db, account_id)
        if state is None:
            if not (await service._claim_username(username, account_id)
                    and await service._claim_email(email, account_id)):
                raise RuntimeError(f"the sample account {username} is taken by another account")
            registered = domain.decide_register(
                account_id=account_id, username=username, email=email, display_name=display_name,
                locale=locale, password_hash=password_hash, role=role, token_hash=None, now=service.clock.now(),
            )
            await service.projector.wait_for(
                await service.store.append("account", account_id, registered, expected=0, by=None))
            state = await views.by_id(service.db, account_id)
            assert state is not None, "the view applied the registration"
        if not state.email_confirmed:
            await service.projector.wait_for(await service.store.append(
                "account", account_id, EmailConfirmed(email=email), expected=state.version, by=None))
        ids.append(account_id)
    return ids
