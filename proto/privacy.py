"""A person's data across the platform (GDPR Art. 15, 17, 20): the endpoints every service
that holds personal data answers, and the file a person downloads.

A service's contract inherits `PersonalDataContract`; that is its declaration that it holds
personal data, and gives it two endpoints of its own (`directory.export_personal_data`, …):

- `export_personal_data`: the caller's section of the export. Only with the short-lived
  export credential identity issues when a mailed download link is opened (scope
  `EXPORT_SCOPE`); an ordinary access token is refused, so a stolen session cannot pull a
  person's whole record out of the platform.
- `erasure_blockers`: what must happen before the caller's account can be erased (the last
  owner of an actor hands it over first). Asked by identity's `delete_account` with the
  person's own access token; an empty list lets the erasure go ahead.

Erasing itself needs no endpoint: identity appends a tombstone to the account's subject
(`identity.account_deleted`), and every service reacts to it from its view of
`identity.events.>` (services/kernel/privacy.py).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, JsonValue

from proto import subjects
from proto.common import Contract, Endpoint, Reply, Request

# A section's content: a JSON object whose shape each service documents (README "Your data").
JsonObject = dict[str, JsonValue]

# The `scp` claim of an export credential. A token with a scope is not an access token:
# services/kernel/auth.py refuses it everywhere but where that scope is asked for.
EXPORT_SCOPE = "personal-data-export"

# What remains of an erased person where others' records mention them (an actor's history):
# no name, no address, only this. Events they authored keep their account id, an opaque id.
FORMER_MEMBER = "a former member"

ExportFormat = Literal["lotse.personal-data/1"]
EXPORT_FORMAT: ExportFormat = "lotse.personal-data/1"


class ExportPersonalData(Request):
    """The caller's section; the caller is the export credential's account."""


class PersonalDataSection(Reply):
    service: str
    data: JsonObject


class CheckErasure(Request):
    """What would stop erasing the caller's account."""


class ErasureBlocker(Reply):
    message: str  # what must happen first, in words for people
    names: list[str] = []  # what it is about (the actors' names), for a client to list


class ErasureBlockers(Reply):
    blockers: list[ErasureBlocker]


class PersonalDataContract(Contract):
    """Inherited by the contract of every service that holds personal data."""

    export_personal_data = Endpoint(
        ExportPersonalData, PersonalDataSection, "The caller's personal data held here (export credential only).",
        repeatable=True,
    )
    erasure_blockers = Endpoint(
        CheckErasure, ErasureBlockers, "What must happen before the caller's account can be erased.",
        repeatable=True,
    )


def holder_services() -> list[str]:
    """The services whose contract inherits `PersonalDataContract`, in the platform's order
    (for what is generated from the contracts: NATS permissions)."""
    found = []
    for service in subjects.SERVICES:
        try:
            module = importlib.import_module(f"proto.{service}")
        except ModuleNotFoundError:
            continue
        if PersonalDataContract.erasure_blockers.verb in module.ENDPOINTS:
            found.append(service)
    return found


class PersonalDataExport(BaseModel):
    """The file behind a data-export link: one section per service that holds personal data."""

    format: ExportFormat = EXPORT_FORMAT
    exported_at: datetime
    account_id: str
    services: dict[str, JsonObject]
