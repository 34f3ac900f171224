"""The mail notifications sends: one per item (a follow mailed at once), and the daily or weekly
digest. German by default, English for `en`; rendered by the kernel's one layout, so a title
someone typed never becomes markup.

Every one carries a one-click unsubscribe (RFC 8058): `List-Unsubscribe` with the link and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so a mail client's button turns the
mail off with one POST; the same link in the text opens a page that asks first (a mail
scanner's GET changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from proto import notifications as api
from proto.mail import OutgoingMail
from services.kernel.mails import Words, render

DIGEST_SHOWN = 30  # items listed in a digest; more are counted, and waiting in the inbox


def _unsubscribe(mail: OutgoingMail, url: str) -> OutgoingMail:
    return mail.model_copy(update={"headers": {"List-Unsubscribe": f"<{url}>",
                                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}})


def _reasons(reasons: Sequence[api.Reason], de: bool) -> str:
    words = {"actor": ("Akteur", "actor"), "topic": ("Thema", "topic"), "region": ("Region", "region"),
             "kind": ("Art", "kind")}
    said = [f"{words[r.target.type][0 if de else 1]} „{r.name}“" if de else f"{words[r.target.type][1]} “{r.name}”"
            for r in reasons]
    if not said:
        return ""
    return ("Sie erhalten diese Nachricht, weil Sie folgen: " if de else "You get this because you follow: ") + \
        ", ".join(said) + "."


def item(*, to: str, locale: str, name: str, content: api.NotificationContent, reasons: Sequence[api.Reason],
         url: str, unsubscribe_url: str, notification_id: str) -> OutgoingMail:
    de = locale != "en"
    by = content.actor_name or ""
    text = content.text_for([locale])  # the item in the reader's language, where it has one
    words = Words(
        f"{by}: {text.title}" if by else text.title,
        f"Hallo {name}," if de else f"Hello {name},",
        tuple(p for p in (
            (f"„{by}“ hat veröffentlicht: {text.title}" if de else f"“{by}” published: {text.title}"),
            text.summary,
        ) if p),
        "Auf Lotse lesen" if de else "Read on Lotse",
        (_reasons(reasons, de),
         (f"Keine Mails mehr zu diesem Abonnement: {unsubscribe_url}" if de else
          f"No more mail for this follow: {unsubscribe_url}")),
    )
    mail = render("notification", words, to=to, locale=locale, action_url=url)
    return _unsubscribe(mail.model_copy(update={"id": notification_id}), unsubscribe_url)


def digest(*, to: str, locale: str, name: str, cadence: str, entries: Sequence[tuple[api.NotificationContent, str]],
           total: int, inbox_url: str, unsubscribe_url: str, digest_id: str) -> OutgoingMail:
    de = locale != "en"
    daily = cadence == "daily"
    lines = tuple(f"• {c.actor_name + ': ' if c.actor_name else ''}{c.text_for([locale]).title} — {url}"
                  for c, url in entries[:DIGEST_SHOWN])
    more = total - len(lines)
    rest = ((f"… und {more} weitere in Ihrem Posteingang." if de else f"… and {more} more in your inbox."),) \
        if more > 0 else ()
    words = Words(
        (f"Lotse: {total} Neuigkeiten {'des Tages' if daily else 'der Woche'}" if de else
         f"Lotse: {total} new {'today' if daily else 'this week'}"),
        f"Hallo {name}," if de else f"Hello {name},",
        (("Neu bei dem, dem Sie folgen:" if de else "New in what you follow:"), *lines, *rest),
        "Zum Posteingang" if de else "Open your inbox",
        ((f"Keine {'täglichen' if daily else 'wöchentlichen'} Zusammenfassungen mehr: {unsubscribe_url}" if de else
          f"No more {'daily' if daily else 'weekly'} digests: {unsubscribe_url}"),),
    )
    mail = render(f"digest-{cadence}", words, to=to, locale=locale, action_url=inbox_url)
    return _unsubscribe(mail.model_copy(update={"id": digest_id}), unsubscribe_url)


def notice(*, to: str, locale: str, name: str, content: api.NotificationContent, url: str,
           notification_id: str) -> OutgoingMail:
    """A notice about the person's part in an actor (a role changed, a membership ended)."""
    de = locale != "en"
    words = Words(content.title, f"Hallo {name}," if de else f"Hello {name},",
                  tuple(p for p in (content.title, content.summary) if p),
                  "Auf Lotse ansehen" if de else "View on Lotse")
    return render(f"notice-{content.kind}", words, to=to, locale=locale, action_url=url).model_copy(
        update={"id": notification_id})
