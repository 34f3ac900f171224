"""An account as its owner sees it (pure): the reply of identity's endpoints and the
account in its section of a data export."""

from __future__ import annotations

from proto import identity as api
from services.identity.domain import AccountState


def account(state: AccountState) -> api.Account:
    return api.Account(
        id=state.id,
        username=state.username,
        email=state.email,
        display_name=state.display_name,
        locale=state.locale,
        role=state.role,
        email_confirmed=state.email_confirmed,
        pending_email=state.pending_email,
        created_at=state.created_at,
    )
