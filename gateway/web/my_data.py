"""The page a data-export mail links to: download everything the platform holds about you.

Like the other mail-link pages (gateway/web/links.py), a GET only shows a button and
spends nothing: mail scanners open links before people do. The POST (with its CSRF token)
spends the link at identity, which answers with a credential good for two minutes and for
`export_personal_data` alone (proto/privacy.py); with it the page asks every service that
holds personal data for its section and answers with the JSON file. Nothing of it is kept
anywhere: the file exists in this response only. Unknown, used and expired links all get
the same page.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import form_of
from gateway.web.headers import page_headers
from gateway.web.links import link_page, message, unavailable_or_limited
from gateway.web.page import Page, page_of
from proto import identity
from proto.common import Caller
from proto.errors import LotseError
from proto.privacy import ExportPersonalData, PersonalDataExport
from services.kernel.logging import get_logger

log = get_logger("gateway.my_data")

router = APIRouter(include_in_schema=False)


@router.get("/my-data")
async def my_data_page(token: str = "", page: Page = Depends(page_of)) -> Response:
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    return link_page(page, "my_data.html", "my_data.title", token=token)


@router.post("/my-data")
async def download(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    token = form.get("token")
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    client = page.gateway.client
    # Asked as nobody in particular: the link's token is the only permission.
    grant = await page.attempt(client.identity.open_data_export, lambda: identity.OpenDataExport(token=token))
    if isinstance(grant, LotseError):
        # Not spent when identity could not be reached: the same link may be tried again.
        retry = {"action": "/my-data", "fields": {"token": token}}
        return unavailable_or_limited(page, grant, retry) or message(page, "my_data.invalid", 410, problem=True)
    credential = Caller(token=grant.credential, client_address=page.address)
    try:
        sections = await asyncio.gather(*(
            holder.export_personal_data(ExportPersonalData(), credential) for holder in client.holders()
        ))
    except LotseError as e:
        log.warning("my_data.gathering_failed", code=e.code.value, error=e.message)
        return message(page, "my_data.failed", 503, problem=True)
    now = page.now()
    document = PersonalDataExport(exported_at=now, account_id=grant.account_id,
                                  services={section.service: section.data for section in sections})
    log.info("my_data.downloaded", account_id=grant.account_id, services=len(sections))
    headers = page_headers(page.gateway.settings, personal=True, scripts=False, referrer="no-referrer")
    headers["Content-Disposition"] = f'attachment; filename="lotse-data-{now:%Y-%m-%d}.json"'
    return page.finish(Response(document.model_dump_json(indent=2), media_type="application/json", headers=headers))
