"""The mails the directory sends: invitations, and decisions on an actor's review.

German by default, English for `en`. Each mail is one set of words rendered twice — as
plain text and as escaped HTML — so the two parts never disagree. Names that people typed
(actor names, reasons) go into the HTML part escaped, like all text.
"""

from __future__ import annotations

from datetime import datetime

from proto.mail import OutgoingMail
from services.kernel.mails import Words, render

ROLE = {
    "de": {"owner": "Inhaber*in", "editor": "Redakteur*in"},
    "en": {"owner": "owner", "editor": "editor"},
}


def _when(moment: datetime, de: bool) -> str:
    return moment.strftime("%d.%m.%Y, %H:%M UTC" if de else "%Y-%m-%d %H:%M UTC")


def invitation(*, to: str, locale: str, actor_name: str, inviter: str | None, role: str,
               expires_at: datetime, url: str) -> OutgoingMail:
    de = locale != "en"
    who = inviter or ("Ein Mitglied" if de else "A member")
    words = Words(
        f"Einladung: {actor_name} bei Lotse" if de else f"Invitation: {actor_name} on Lotse",
        "Hallo," if de else "Hello,",
        (f"{who} lädt Sie ein, den Eintrag „{actor_name}“ bei Lotse als {ROLE['de'][role]} mitzupflegen."
         if de else
         f"{who} invites you to help keep the entry “{actor_name}” on Lotse up to date, as {ROLE['en'][role]}.",
         "Melden Sie sich an (oder registrieren Sie sich) und nehmen Sie die Einladung an. Der Link gilt "
         f"bis {_when(expires_at, True)} und nur einmal." if de else
         "Sign in (or register) and accept the invitation. The link is valid until "
         f"{_when(expires_at, False)} and works once."),
        "Einladung annehmen" if de else "Accept the invitation",
        ("Wenn Sie damit nichts zu tun haben, können Sie diese Mail ignorieren." if de else
         "If this means nothing to you, you can ignore this mail.",),
    )
    return render("actor-invitation", words, to=to, locale=locale, action_url=url)


def decision(*, to: str, locale: str, name: str, actor_name: str, approved: bool,
             reason: str | None, url: str) -> OutgoingMail:
    de = locale != "en"
    if approved:
        words = Words(
            f"„{actor_name}“ ist freigeschaltet" if de else f"“{actor_name}” has been approved",
            f"Hallo {name}," if de else f"Hello {name},",
            (f"der Eintrag „{actor_name}“ wurde geprüft und ist jetzt für alle sichtbar." if de else
             f"the entry “{actor_name}” has been reviewed and is now visible to everyone.",),
            "Eintrag ansehen" if de else "View the entry",
        )
    else:
        words = Words(
            f"„{actor_name}“ wurde nicht freigeschaltet" if de else f"“{actor_name}” was not approved",
            f"Hallo {name}," if de else f"Hello {name},",
            (f"der Eintrag „{actor_name}“ wurde geprüft und nicht freigeschaltet. Begründung:" if de else
             f"the entry “{actor_name}” has been reviewed and was not approved. The reason given:",
             reason or "",
             "Sie können den Eintrag überarbeiten; danach wird er erneut geprüft." if de else
             "You can revise the entry; it will then be reviewed again."),
            "Eintrag bearbeiten" if de else "Edit the entry",
        )
    return render("actor-approved" if approved else "actor-rejected", words, to=to, locale=locale, action_url=url)
