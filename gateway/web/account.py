"""The member area: register, sign in and out, the profile, email and password, and a
person's data: have it mailed as a file, or delete the account (README "Your data").

The same answers as the API, so the pages tell nobody more than GraphQL does: registering
and asking for a link always answer "we sent a mail if …", whoever the address belongs to;
a failed sign-in never says whether the account exists. Every page here is personal
(`Cache-Control: no-store`), and signing out tells the browser to drop what it kept of this
site (`Clear-Site-Data`), the service worker's caches included.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import Form, form_of
from gateway.web.i18n import LANGUAGES
from gateway.web.page import Page, PageProblem, local_path, minutes, page_of
from proto import identity
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)

DONE = ("profile", "email", "password", "data")  # what /me?done= may announce


# ---- language ------------------------------------------------------------------------

@router.get("/language")
async def switch_language(to: str = "", next: str = "/", page: Page = Depends(page_of)) -> Response:
    """A preference, not an action: a GET that only sets the language cookie."""
    if to in LANGUAGES:
        page.choose_language(to)
    return page.redirect(local_path(next))


# ---- register ------------------------------------------------------------------------

REGISTER_FIELDS = ("username", "email", "displayName", "password", "passwordRepeat", "locale", "form")


def register_form(page: Page, form: Form, status: int = 200) -> Response:
    return page.render("register.html", status=status, personal=True, title=page.t("register.title"), form=form)


@router.get("/register")
async def register_page(page: Page = Depends(page_of)) -> Response:
    if page.signed_in:
        return page.redirect("/me")
    return register_form(page, form_of({"locale": [page.lang]}, *REGISTER_FIELDS))


@router.post("/register")
async def register(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *REGISTER_FIELDS)
    if form.get("password") != form.get("passwordRepeat"):
        form.fail("passwordRepeat", page.t("password.mismatch"))
        return register_form(page, form, 400)
    result = await page.attempt(page.gateway.client.identity.register, lambda: identity.Register(
        username=form.text("username"), email=form.text("email"), password=form.get("password"),
        display_name=form.text("displayName"), locale=form.get("locale") or page.lang))
    if isinstance(result, LotseError):
        if result.code == ErrorCode.RATE_LIMITED:
            form.fail("form", page.t("limited.text", minutes=minutes(result.retry_after)))
            return register_form(page, form, 429)
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        form.fail_with(result, "form")
        return register_form(page, form, 400)
    return page.render("message.html", personal=True, title=page.t("register.sent.title"),
                       text=page.t("register.sent.text", email=form.text("email")), spam_hint=True,
                       resend=True)


# ---- sign in and out -----------------------------------------------------------------

SIGNIN_FIELDS = ("identifier", "password", "next", "form")


def signin_form(page: Page, form: Form, status: int = 200, unconfirmed: bool = False) -> Response:
    return page.render("signin.html", status=status, personal=True, title=page.t("signin.title"), form=form,
                       unconfirmed=unconfirmed)


@router.get("/signin")
async def signin_page(next: str = "", page: Page = Depends(page_of)) -> Response:
    if page.signed_in:
        return page.redirect(local_path(next, "/me"))
    return signin_form(page, form_of({"next": [local_path(next, "")]}, *SIGNIN_FIELDS))


@router.post("/signin")
async def signin(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *SIGNIN_FIELDS)
    result = await page.attempt(page.gateway.client.identity.sign_in, lambda: identity.SignIn(
        identifier=form.text("identifier"), password=form.get("password")))
    if isinstance(result, LotseError):
        if result.code == ErrorCode.FORBIDDEN:
            form.fail("form", page.t("signin.unconfirmed"))
            return signin_form(page, form, 403, unconfirmed=True)
        if result.code in (ErrorCode.UNAUTHENTICATED, ErrorCode.INVALID_INPUT):
            form.fail("form", page.t("signin.failed"))
            return signin_form(page, form, 401)
        if result.code == ErrorCode.RATE_LIMITED:
            form.fail("form", page.t("limited.text", minutes=minutes(result.retry_after)))
            return signin_form(page, form, 429)
        raise page.problem(result)
    page.start_session(result)
    if result.account.locale in LANGUAGES:
        page.choose_language(result.account.locale)
    return page.redirect(local_path(form.get("next"), "/me"))


def signed_out(page: Page) -> Response:
    page.end_session(clear_site=True)
    return page.render("message.html", personal=True, title=page.t("signout.done.title"),
                       text=page.t("signout.done.text"), signed_out=True)


@router.post("/signout")
async def signout(page: Page = Depends(page_of)) -> Response:
    await page.form()
    if page.session is not None:
        refresh_token = page.session.refresh_token
        result = await page.attempt(page.gateway.client.identity.sign_out,
                                    lambda: identity.SignOut(refresh_token=refresh_token))
        if isinstance(result, LotseError) and result.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
            raise page.problem(result)  # the session goes on: say so instead of pretending
    return signed_out(page)


@router.post("/signout/everywhere")
async def signout_everywhere(page: Page = Depends(page_of)) -> Response:
    await page.form()
    page.require_signed_in()
    await page.ask(page.gateway.client.identity.sign_out_everywhere, lambda: identity.SignOutEverywhere())
    return signed_out(page)


# ---- the profile ---------------------------------------------------------------------

ME_FIELDS = ("displayName", "locale", "newEmail", "password", "currentPassword", "newPassword",
             "newPasswordRepeat", "profile", "email", "data", "deletePassword", "form")


async def me_page(page: Page, form: Form | None = None, status: int = 200, done: str | None = None) -> Response:
    page.require_signed_in()
    viewer = await page.ask(page.gateway.client.identity.viewer, lambda: identity.GetViewer())
    if viewer.account is None:
        raise PageProblem(401, "problem.signin", sign_in=True)
    return page.render("me.html", status=status, personal=True, title=page.t("me.title"), account=viewer.account,
                       form=form or form_of({}, *ME_FIELDS), done=done if done in DONE else None)


@router.get("/me")
async def me(done: str = "", page: Page = Depends(page_of)) -> Response:
    return await me_page(page, done=done)


@router.post("/me/profile")
async def update_profile(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ME_FIELDS)
    page.require_signed_in()
    result = await page.attempt(page.gateway.client.identity.update_profile, lambda: identity.UpdateProfile(
        display_name=form.text("displayName"), locale=form.get("locale") or None))
    if isinstance(result, LotseError):
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        form.fail_with(result, "profile")
        return await me_page(page, form, 400)
    if result.locale in LANGUAGES:
        page.choose_language(result.locale)
    return page.redirect("/me?done=profile")


@router.post("/me/email")
async def change_email(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ME_FIELDS)
    page.require_signed_in()
    result = await page.attempt(page.gateway.client.identity.change_email, lambda: identity.ChangeEmail(
        new_email=form.text("newEmail"), password=form.get("password")))
    if isinstance(result, LotseError):
        if result.code == ErrorCode.RATE_LIMITED:
            form.fail("email", page.t("limited.text", minutes=minutes(result.retry_after)))
            return await me_page(page, form, 429)
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        form.fail_with(result, "email")
        return await me_page(page, form, 400)
    return page.redirect("/me?done=email")


@router.post("/me/password")
async def change_password(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ME_FIELDS)
    page.require_signed_in()
    if form.get("newPassword") != form.get("newPasswordRepeat"):
        form.fail("newPasswordRepeat", page.t("password.mismatch"))
        return await me_page(page, form, 400)
    result = await page.attempt(page.gateway.client.identity.change_password, lambda: identity.ChangePassword(
        current_password=form.get("currentPassword"), new_password=form.get("newPassword")))
    if isinstance(result, LotseError):
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        form.fail_with(result, "currentPassword")
        return await me_page(page, form, 400)
    return page.redirect("/me?done=password")


# ---- a person's data -----------------------------------------------------------------

@router.post("/me/data")
async def export_my_data(page: Page = Depends(page_of)) -> Response:
    """The file is mailed, not shown here: a stolen session alone cannot take it."""
    form = form_of(await page.form(), *ME_FIELDS)
    page.require_signed_in()
    result = await page.attempt(page.gateway.client.identity.request_data_export, lambda: identity.RequestDataExport())
    if isinstance(result, LotseError):
        if result.code != ErrorCode.RATE_LIMITED:
            raise page.problem(result)
        form.fail("data", page.t("limited.text", minutes=minutes(result.retry_after)))
        return await me_page(page, form, 429)
    return page.redirect("/me?done=data")


@router.post("/me/delete")
async def delete_account(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *ME_FIELDS)
    page.require_signed_in()
    result = await page.attempt(page.gateway.client.identity.delete_account,
                                lambda: identity.DeleteAccount(password=form.get("deletePassword")))
    if isinstance(result, LotseError):
        if result.code not in (ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT, ErrorCode.RATE_LIMITED):
            raise page.problem(result)
        # The API names `password`; on this page that is the deletion's own password field.
        form.fail("deletePassword", result.message)
        return await me_page(page, form, 429 if result.code == ErrorCode.RATE_LIMITED else 400)
    page.end_session(clear_site=True)
    return page.render("message.html", personal=True, title=page.t("deleted.title"), text=page.t("deleted.text"))
