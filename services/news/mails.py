"""The mail news sends: an administrator withdrew one of the actor's items.

German by default, English for `en`; one set of words rendered as text and as escaped HTML
(services/kernel/mails.py), so a title someone typed can never become markup.
"""

from __future__ import annotations

from proto.mail import OutgoingMail
from services.kernel.mails import Words, render


def withdrawn_by_admin(*, to: str, locale: str, name: str, actor_name: str, title: str, reason: str,
                       url: str) -> OutgoingMail:
    de = locale != "en"
    words = Words(
        f"„{title}“ wurde zurückgezogen" if de else f"“{title}” was withdrawn",
        f"Hallo {name}," if de else f"Hello {name},",
        (f"die Plattform-Administration hat den Beitrag „{title}“ von „{actor_name}“ zurückgezogen. "
         "Er erscheint nicht mehr in Feeds, Suche und Kalendern. Begründung:" if de else
         f"the platform's administrators withdrew the item “{title}” of “{actor_name}”. It no longer "
         "appears in feeds, search or calendars. The reason given:",
         reason,
         "Bei Fragen antworten Sie bitte nicht auf diese Mail, sondern wenden Sie sich an die Administration."
         if de else "If you have questions, please contact the administrators rather than replying to this mail."),
        "Beitrag ansehen" if de else "View the item",
    )
    return render("news-withdrawn", words, to=to, locale=locale, action_url=url)
