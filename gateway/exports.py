"""The directory as files: the public directory as HSDS JSON, a contact person as a vCard.

- `GET /export/hsds.json`: the public directory in the shape of the Open Referral Human
  Services Data Specification 3.0 (HSDS): organizations, each with its services (the
  actor's own work and its offerings), service areas, languages, phones and contacts.
  Only approved actors, and only public contact persons — the directory answers this
  export as it answers anyone, whatever token came along. Cached by ETag.
- `GET /actors/<slug>/contacts/<id>.vcf`: one contact person as a vCard 4.0 (RFC 6350).
  A public person for everyone; another only with a valid `Authorization: Bearer` token.
  Anything else — no such actor or person, a pending actor, a bad token — is the same
  404, so the address reveals nothing about what exists.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import phonenumbers
import pycountry
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gateway.caller import client_address
from gateway.state import Gateway
from proto import directory as contract
from proto.common import Caller
from proto.errors import ErrorCode, LotseError
from services.kernel.auth import bearer
from services.kernel.logging import get_logger

log = get_logger("gateway.exports")

router = APIRouter(include_in_schema=False)

HSDS_VERSION = "3.0"
EXPORT_PAGE = 100  # actors per directory request: one page must fit a NATS message
EXPORT_MAX_PAGES = 10_000  # a bound, not an expectation: stops a cursor that never ends
EXPORT_CACHE = "public, max-age=300"
TOPIC_TAXONOMY = "lotse-topics"
KIND_TAXONOMY = "lotse-actor-kinds"
TOPIC_NAMES = {t.slug: t.de for t in contract.TOPICS}
KIND_NAMES = {t.slug: t.de for t in contract.ACTOR_KINDS}


def caller_of(request: Request, token: str | None = None) -> Caller:
    gateway: Gateway = request.app.state.gateway
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.get("x-forwarded-for"), gateway.settings.trusted_proxies)
    return Caller(token=token, client_address=address)


def unavailable(error: LotseError) -> Response:
    log.warning("exports.service_error", code=error.code.value, error=error.message)
    return Response("The directory cannot be reached right now; try again shortly.\n", status_code=503,
                    media_type="text/plain", headers={"Retry-After": "30", "Cache-Control": "no-store"})


# ---- HSDS ------------------------------------------------------------------------------

def _language(owner: str, code: str) -> dict[str, Any]:
    found = pycountry.languages.get(alpha_2=code)
    return {"id": f"{owner}:lang:{code}", "service_id": owner, "name": found.name if found else code, "code": code}


def _area(owner: str, region: contract.RegionRef) -> dict[str, Any]:
    return {"id": f"{owner}:area:{region.ags}", "service_id": owner, "name": region.name,
            "description": f"{region.level}, AGS {region.ags}", "extent_type": None}


def _phones(owner: str, number: str | None) -> list[dict[str, Any]]:
    return [{"id": f"{owner}:phone", "number": number}] if number else []


def _terms(owner: str, slugs: list[str], taxonomy: str, names: dict[str, str]) -> list[dict[str, Any]]:
    return [{
        "id": f"{owner}:{taxonomy}:{slug}", "link_id": owner, "link_type": taxonomy,
        "taxonomy_term": {"id": f"{taxonomy}:{slug}", "code": slug, "name": names.get(slug, slug),
                          "taxonomy": taxonomy},
    } for slug in slugs]


def _service(org: contract.Actor, *, id: str, name: str, description: str, topics: list[str],
             languages: list[str], regions: list[contract.RegionRef], email: str | None, phone: str | None,
             url: str | None, eligibility: str | None) -> dict[str, Any]:
    return {
        "id": id, "organization_id": org.id, "name": name, "description": description, "url": url,
        "email": email, "status": "active", "eligibility_description": eligibility or None,
        "languages": [_language(id, code) for code in languages],
        "service_areas": [_area(id, region) for region in regions],
        "phones": _phones(id, phone),
        "attributes": _terms(id, topics, TOPIC_TAXONOMY, TOPIC_NAMES),
    }


def hsds_organization(actor: contract.Actor) -> dict[str, Any]:
    """One approved actor as an HSDS organization. Its own work (its topics, languages and
    regions) is a service with the actor's id; each offering is a service of its own, serving
    its regions or, without any, the actor's."""
    services = [_service(actor, id=actor.id, name=actor.name, description=actor.description,
                         topics=actor.topics, languages=actor.languages, regions=actor.regions,
                         email=actor.email, phone=actor.phone, url=actor.website, eligibility=None)]
    services += [_service(actor, id=o.id, name=o.name, description=o.description, topics=o.topics,
                          languages=o.languages or actor.languages, regions=o.regions or actor.regions,
                          email=o.email, phone=o.phone, url=o.website, eligibility=o.eligibility)
                 for o in actor.offerings]
    contacts = [{
        "id": p.id, "organization_id": actor.id, "name": p.name, "title": p.function, "email": p.email,
        "phones": _phones(p.id, p.phone),
    } for p in actor.contact_persons if p.public and not p.redacted]
    locations = []
    if actor.address is not None or actor.coordinates is not None:
        address = actor.address
        locations.append({
            "id": f"{actor.id}:location", "organization_id": actor.id, "location_type": "physical",
            "name": actor.name,
            "latitude": actor.coordinates.latitude if actor.coordinates else None,
            "longitude": actor.coordinates.longitude if actor.coordinates else None,
            "addresses": [{
                "id": f"{actor.id}:address", "location_id": f"{actor.id}:location", "address_type": "physical",
                "address_1": address.street, "city": address.locality, "postal_code": address.postal_code,
                "state_province": "", "country": address.country,
            }] if address is not None else [],
        })
    return {
        "id": actor.id, "name": actor.name, "alternate_name": actor.short_name, "description": actor.description,
        "email": actor.email, "website": actor.website,
        "phones": _phones(actor.id, actor.phone), "services": services, "contacts": contacts,
        "locations": locations, "attributes": _terms(actor.id, [actor.kind], KIND_TAXONOMY, KIND_NAMES),
        "metadata": [{"id": f"{actor.id}:updated", "resource_id": actor.id, "resource_type": "organization",
                      "last_action_date": actor.updated_at.date().isoformat(), "last_action_type": "update",
                      "field_name": "", "previous_value": "", "replacement_value": "", "updated_by": "lotse"}],
    }


def hsds_page(organizations: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole list as HSDS's paginated response: one page holding everything."""
    count = len(organizations)
    return {"hsds_version": HSDS_VERSION, "total_items": count, "total_pages": 1, "page_number": 1,
            "size": count, "first_page": True, "last_page": True, "empty": count == 0,
            "contents": organizations}


async def public_actors(gateway: Gateway, caller: Caller) -> list[contract.Actor]:
    actors: list[contract.Actor] = []
    after: str | None = None
    for _ in range(EXPORT_MAX_PAGES):
        page = await gateway.client.directory.export_actors(
            contract.ExportActors(after=after, first=EXPORT_PAGE), caller)
        actors += page.actors
        if page.next_after is None:
            break
        after = page.next_after
    return actors


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in header.split(",")]


@router.get("/export/hsds.json")
async def hsds_export(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        actors = await public_actors(gateway, caller_of(request))  # no token: public data only
    except LotseError as e:
        return unavailable(e)
    body = json.dumps(hsds_page([hsds_organization(a) for a in actors]), ensure_ascii=False,
                      separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": EXPORT_CACHE, "X-Content-Type-Options": "nosniff"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# ---- vCard -----------------------------------------------------------------------------

def vcard_text(value: str) -> str:
    """RFC 6350 §3.4: backslash, comma and semicolon escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str, limit: int = 75) -> str:
    """RFC 6350 §3.2: lines of at most 75 octets, continued after CRLF and one space;
    never inside a UTF-8 character."""
    data = line.encode()
    parts: list[bytes] = []
    budget = limit
    while len(data) > budget:
        cut = budget
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte: step back to the start
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        budget = limit - 1  # the leading space counts
    parts.append(data)
    return "\r\n ".join(p.decode() for p in parts)


def tel_uri(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def vcard(actor: contract.Actor, person: contract.ContactPerson, source: str) -> str:
    lines = ["BEGIN:VCARD", "VERSION:4.0", "KIND:individual", f"FN:{vcard_text(person.name or '')}",
             f"ORG:{vcard_text(actor.name)}"]
    if person.function:
        lines.append(f"TITLE:{vcard_text(person.function)}")
    if person.email:
        lines.append(f"EMAIL;TYPE=work:{vcard_text(person.email)}")
    if person.phone:
        uri = tel_uri(person.phone)
        lines.append(f"TEL;VALUE=uri;TYPE=work,voice:{uri}" if uri else f"TEL;TYPE=work:{vcard_text(person.phone)}")
    lines += [f"LANG;PREF={n}:{code}" for n, code in enumerate(person.languages[:100], start=1)]
    if actor.website:
        lines.append(f"URL:{actor.website}")
    lines += [f"SOURCE:{source}", f"UID:urn:lotse:contact-person:{person.id}", "PRODID:-//Lotse//Directory//DE",
              "END:VCARD"]
    return "".join(fold(line) + "\r\n" for line in lines)


def not_found() -> Response:
    return Response("Not found\n", status_code=404, media_type="text/plain",
                    headers={"Cache-Control": "no-store", "Vary": "Authorization"})


@router.get("/actors/{slug}/contacts/{person_id}.vcf")
async def contact_vcard(request: Request, slug: str, person_id: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    token = bearer(request.headers.get("authorization"))
    try:
        actor = await gateway.client.directory.get_actor(contract.GetActor(slug=slug), caller_of(request, token))
    except ValidationError:
        return not_found()
    except LotseError as e:
        if e.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
            return unavailable(e)
        return not_found()  # unknown, not visible, or a token that does not verify: all alike
    person = next((p for p in actor.contact_persons if p.id == person_id), None)
    if person is None or person.redacted:
        return not_found()
    source = gateway.settings.link(f"/actors/{actor.slug}/contacts/{person.id}.vcf")
    return Response(
        vcard(actor, person, source).encode(), media_type="text/vcard; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{actor.slug}-{person.id}.vcf"',
            # A public person may be cached by anyone; personal data shown to a signed-in caller may not.
            "Cache-Control": "public, max-age=300" if person.public else "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Vary": "Authorization",
        },
    )
