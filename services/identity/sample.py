"""Sample accounts for `lotse dev` (never loaded in production: only the dev runner calls this).

They share one documented password so a developer can sign in at once; README.md lists them.
"""

from __future__ import annotations

from proto.envelope import new_id
from proto.identity import EmailConfirmed
from services.identity import domain, views
from services.identity.secrets import hash_password
from services.kernel.commands import Decision

SAMPLE_PASSWORD = "Lotse-Beispiel-2026!"

# (username, email, display name, locale, role)
ACCOUNTS = [
    ("admin", "admin@lotse.localhost", "Lotse-Administration", "de", "admin"),
    ("anna.schmidt", "anna.schmidt@lotse.localhost", "Anna Schmidt", "de", "member"),
    ("mehmet.yilmaz", "mehmet.yilmaz@lotse.localhost", "Mehmet Yılmaz", "de", "member"),
    ("julia.weber", "julia.weber@lotse.localhost", "Julia Weber", "en", "member"),
]


async def load(service) -> list[str]:
    """Create the sample accounts that don't exist yet; return their ids by username order."""
    password_hash = await hash_password(SAMPLE_PASSWORD)
    ids = []
    for username, email, display_name, locale, role in ACCOUNTS:
        existing = await views.by_email(service.db, email)
        if existing is not None:
            ids.append(existing.id)
            continue
        account_id = new_id()
        if not (await service._claim_username(username, account_id) and await service._claim_email(email, account_id)):
            continue
        registered = domain.decide_register(
            account_id=account_id, username=username, email=email, display_name=display_name, locale=locale,
            password_hash=password_hash, role=role, token_hash=None, now=service.clock.now(),
        )
        seq = await service.store.append("account", account_id, registered, expected=0, by=None)
        seq = await service.store.append("account", account_id, EmailConfirmed(email=email), expected=seq, by=None)
        await service.projector.wait_for(seq)
        ids.append(account_id)
    return ids
