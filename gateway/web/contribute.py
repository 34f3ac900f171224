"""Contribute: create and edit my actor, its offerings and contact persons, invite members.

Every change goes to the directory as the signed-in person; the directory decides who may
(owners and editors edit, owners invite). Editing sends back the `version` the form was
loaded with: when someone else saved in between, the directory answers CONFLICT and the
page shows both — what is saved now and what this person typed — with their typing kept,
so they can save it deliberately over the other version or discard it and reload.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import Form, form_of
from gateway.web.page import Page, PageProblem, page_of
from gateway.web.regions import region_choice
from proto import directory
from proto.errors import ErrorCode

router = APIRouter(include_in_schema=False)

ACTOR_FIELDS = ("kind", "name", "shortName", "description", "website", "email", "phone", "address.street",
                "address.postalCode", "address.locality", "topics", "languages", "regions", "form")
# Optional fields an edit empties by naming them in `clear` (proto.directory.ActorClearable).
CLEARABLE = {"shortName": "short_name", "website": "website", "email": "email", "phone": "phone"}
DONE = ("created", "saved", "offering", "person", "invited", "removed")


def languages_of(text: str) -> list[str]:
    return [code.strip().lower() for code in text.replace(";", ",").split(",") if code.strip()]


@dataclass(frozen=True)
class Difference:
    field: str  # the catalog key's last part: form.name, form.website, …
    saved: str
    yours: str


def profile_values(actor: directory.Actor) -> dict[str, Any]:
    """An actor's profile as the form spells it."""
    address = actor.address
    return {
        "kind": actor.kind, "name": actor.name, "shortName": actor.short_name or "",
        "description": actor.description, "website": actor.website or "", "email": actor.email or "",
        "phone": actor.phone or "", "address.street": address.street if address else "",
        "address.postalCode": address.postal_code if address else "",
        "address.locality": address.locality if address else "",
        "topics": list(actor.topics), "languages": ", ".join(actor.languages),
        "regions": [r.ags for r in actor.regions],
    }


def form_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.text(name) for name in ACTOR_FIELDS
                              if name not in ("topics", "regions", "form")}
    values["description"] = form.get("description").strip()
    values["topics"] = form.all("topics")
    values["regions"] = form.all("regions")
    return values


def differences(saved: dict[str, Any], yours: dict[str, Any]) -> list[Difference]:
    def shown(value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else str(value)

    return [Difference(name, shown(saved.get(name, "")), shown(yours.get(name, "")))
            for name in ACTOR_FIELDS if name != "form"
            and (sorted(saved[name]) if isinstance(saved.get(name), list) else saved.get(name))
            != (sorted(yours[name]) if isinstance(yours.get(name), list) else yours.get(name))]


def address_of(values: dict[str, Any]) -> directory.PostalAddress | None:
    if not (values["address.street"] or values["address.postalCode"] or values["address.locality"]):
        return None
    return directory.PostalAddress(street=values["address.street"], postal_code=values["address.postalCode"],
                                   locality=values["address.locality"])


def region_request(ags: str) -> Callable[[], directory.GetRegion]:
    return lambda: directory.GetRegion(ags=ags)


async def region_names(page: Page, keys: list[str]) -> list[directory.Region]:
    found = []
    for ags in dict.fromkeys(keys):
        region = await page.attempt(page.gateway.client.directory.get_region, region_request(ags))
        if isinstance(region, directory.Region):
            found.append(region)
    return found


async def actor_form(page: Page, template: str, title: str, values: dict[str, Any], form: Form, status: int = 200,
                     **extra: Any) -> Response:
    picked = await region_choice(page, form.get("state") or None, form.get("district") or None,
                                 form.get("municipality") or None)
    return page.render(template, status=status, personal=True, title=title, values=values, form=form,
                       regions=await region_names(page, values["regions"]), choice=picked,
                       kinds=directory.ACTOR_KINDS, topics=directory.TOPICS, **extra)


def adding_region(form: Form, values: dict[str, Any]) -> bool:
    """The form's "add this region" button: the picked region joins the list; nothing is saved."""
    if form.get("action") != "add-region":
        return False
    picked = form.get("municipality") or form.get("district") or form.get("state")
    if picked and picked not in values["regions"]:
        values["regions"].append(picked)
    return True


# ---- my actors -----------------------------------------------------------------------

@router.get("/contribute")
async def my_actors(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    mine = await page.ask(page.gateway.client.directory.my_actors, lambda: directory.MyActors())
    return page.render("contribute.html", personal=True, title=page.t("contribute.title"), actors=mine.actors)


@router.get("/contribute/new")
async def new_actor_page(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of({"key": [secrets.token_urlsafe(16)]}, *ACTOR_FIELDS)
    values = form_values(form) | {"kind": ""}
    return await actor_form(page, "actor_form.html", page.t("contribute.new"), values, form, action="/contribute/new")


@router.post("/contribute/new")
async def create_actor(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ACTOR_FIELDS)
    page.require_signed_in()
    values = form_values(form)
    if not adding_region(form, values):
        result = await page.attempt(page.gateway.client.directory.create_actor, lambda: directory.CreateActor(
            kind=values["kind"], name=values["name"], short_name=values["shortName"] or None,
            description=values["description"], website=values["website"] or None, email=values["email"] or None,
            phone=values["phone"] or None, address=address_of(values), regions=values["regions"],
            topics=values["topics"], languages=languages_of(values["languages"]),
            # The form's own key: pressing the button twice (or a retry after a lost answer)
            # creates one actor, not two.
            idempotency_key=form.get("key") or None))
        if isinstance(result, directory.Actor):
            return page.redirect(f"/contribute/actors/{result.id}?done=created")
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        form.fail_with(result, "form")
    return await actor_form(page, "actor_form.html", page.t("contribute.new"), values, form,
                            status=400 if form.errors else 200, action="/contribute/new")


# ---- one actor -----------------------------------------------------------------------

async def editable(page: Page, actor_id: str) -> directory.Actor:
    page.require_signed_in()
    actor = await page.ask(page.gateway.client.directory.get_actor, lambda: directory.GetActor(id=actor_id))
    if actor.viewer_role is None and not page.is_admin:
        raise PageProblem(403, "problem.forbidden")
    return actor


async def edit_page(page: Page, actor: directory.Actor, form: Form | None = None, values: dict[str, Any] | None = None,
                    status: int = 200, conflict: list[Difference] | None = None, done: str | None = None) -> Response:
    form = form or form_of({}, *ACTOR_FIELDS)
    return await actor_form(page, "actor_edit.html", actor.name, values or profile_values(actor), form, status,
                            actor=actor, version=actor.version, conflict=conflict,
                            done=done if done in DONE else None, action=f"/contribute/actors/{actor.id}",
                            person_form=form_of({}), offering_form=form_of({}), invite_form=form_of({}))


@router.get("/contribute/actors/{actor_id}")
async def edit_actor_page(actor_id: str, done: str = "", page: Page = Depends(page_of)) -> Response:
    return await edit_page(page, await editable(page, actor_id), done=done)


@router.post("/contribute/actors/{actor_id}")
async def update_actor(actor_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ACTOR_FIELDS)
    actor = await editable(page, actor_id)
    values = form_values(form)
    if adding_region(form, values):
        return await edit_page(page, actor, form, values)
    try:
        expected = int(form.get("expectedVersion"))
    except ValueError:
        expected = actor.version
    clear = [wire for name, wire in CLEARABLE.items() if not values[name]]
    address = address_of(values)
    if address is None:
        clear.append("address")
    result = await page.attempt(page.gateway.client.directory.update_actor, lambda: directory.UpdateActor(
        actor_id=actor.id, expected_version=expected, clear=clear,
        kind=values["kind"] or None, name=values["name"] or None, description=values["description"],
        short_name=values["shortName"] or None, website=values["website"] or None, email=values["email"] or None,
        phone=values["phone"] or None, address=address, regions=values["regions"], topics=values["topics"],
        languages=languages_of(values["languages"])))
    if isinstance(result, directory.Actor):
        return page.redirect(f"/contribute/actors/{actor.id}?done=saved")
    if result.code == ErrorCode.CONFLICT:
        # Someone saved first. Show both; keep what this person typed; the next save is
        # against the version now saved, so it overwrites only when they choose to.
        return await edit_page(page, actor, form, values, 409,
                               conflict=differences(profile_values(actor), values))
    if result.code != ErrorCode.INVALID_INPUT:
        raise page.problem(result)
    form.fail_with(result, "form")
    return await edit_page(page, actor, form, values, 400)


OFFERING_FIELDS = ("name", "description", "topics", "eligibility", "email", "phone", "website", "form")
PERSON_FIELDS = ("name", "function", "email", "phone", "public", "form")


@router.post("/contribute/actors/{actor_id}/offerings")
async def add_offering(actor_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *OFFERING_FIELDS)
    actor = await editable(page, actor_id)
    result = await page.attempt(page.gateway.client.directory.add_offering, lambda: directory.AddOffering(
        actor_id=actor.id, name=form.text("name"), description=form.get("description").strip(),
        topics=form.all("topics"), eligibility=form.get("eligibility").strip(),
        email=form.optional("email"), phone=form.optional("phone"), website=form.optional("website")))
    if isinstance(result, directory.Actor):
        return page.redirect(f"/contribute/actors/{actor.id}?done=offering#offerings")
    if result.code != ErrorCode.INVALID_INPUT:
        raise page.problem(result)
    form.fail_with(result, "form")
    return await _with(page, actor, offering_form=form)


@router.post("/contribute/actors/{actor_id}/people")
async def add_contact_person(actor_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *PERSON_FIELDS)
    actor = await editable(page, actor_id)
    result = await page.attempt(page.gateway.client.directory.add_contact_person, lambda: directory.AddContactPerson(
        actor_id=actor.id, name=form.text("name"), function=form.optional("function"), email=form.optional("email"),
        phone=form.optional("phone"), public=form.get("public") == "on"))
    if isinstance(result, directory.Actor):
        return page.redirect(f"/contribute/actors/{actor.id}?done=person#people")
    if result.code != ErrorCode.INVALID_INPUT:
        raise page.problem(result)
    form.fail_with(result, "form")
    return await _with(page, actor, person_form=form)


@router.post("/contribute/actors/{actor_id}/offerings/{offering_id}/remove")
async def remove_offering(actor_id: str, offering_id: str, page: Page = Depends(page_of)) -> Response:
    await page.form()
    actor = await editable(page, actor_id)
    await page.ask(page.gateway.client.directory.remove_offering,
                   lambda: directory.RemoveOffering(actor_id=actor.id, offering_id=offering_id))
    return page.redirect(f"/contribute/actors/{actor.id}?done=removed#offerings")


@router.post("/contribute/actors/{actor_id}/people/{person_id}/remove")
async def remove_contact_person(actor_id: str, person_id: str, page: Page = Depends(page_of)) -> Response:
    await page.form()
    actor = await editable(page, actor_id)
    await page.ask(page.gateway.client.directory.remove_contact_person,
                   lambda: directory.RemoveContactPerson(actor_id=actor.id, contact_person_id=person_id))
    return page.redirect(f"/contribute/actors/{actor.id}?done=removed#people")


@router.post("/contribute/actors/{actor_id}/invite")
async def invite_member(actor_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), "email", "role", "form")
    actor = await editable(page, actor_id)
    result = await page.attempt(page.gateway.client.directory.invite_member, lambda: directory.InviteMember(
        actor_id=actor.id, email=form.text("email"), role=form.get("role") or "editor",
        locale=page.lang))
    if isinstance(result, directory.Invitation):
        return page.redirect(f"/contribute/actors/{actor.id}?done=invited#members")
    if result.code not in (ErrorCode.INVALID_INPUT, ErrorCode.FORBIDDEN, ErrorCode.RATE_LIMITED):
        raise page.problem(result)
    form.fail_with(result, "form") if result.code == ErrorCode.INVALID_INPUT else form.fail("form", result.message)
    return await _with(page, actor, invite_form=form)


async def _with(page: Page, actor: directory.Actor, **forms: Form) -> Response:
    """The edit page with one of its smaller forms showing what was wrong."""
    page_forms = {"person_form": form_of({}), "offering_form": form_of({}), "invite_form": form_of({})} | forms
    return await actor_form(page, "actor_edit.html", actor.name, profile_values(actor), form_of({}, *ACTOR_FIELDS),
                            400, actor=actor, version=actor.version, conflict=None, done=None,
                            action=f"/contribute/actors/{actor.id}", **page_forms)
