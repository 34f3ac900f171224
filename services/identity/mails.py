"""The mails identity sends: German by default, English for accounts whose locale is `en`.

Each mail is one text (subject, paragraphs, an optional button, notes) rendered twice from
the same words — as plain text and as HTML (escaped) — so the two parts never disagree.
"""

from __future__ import annotations

from proto.mail import OutgoingMail
from services.kernel.mails import Words, mail_locale
from services.kernel.mails import render as render_mail

SPAM_NOTE = {
    "de": "Mails von Lotse landen manchmal im Spam-Ordner: Sehen Sie bitte auch dort nach, und markieren "
          "Sie sie als „kein Spam“, damit spätere Nachrichten ankommen.",
    "en": "Mails from Lotse sometimes land in the spam folder: please look there too, and mark them as "
          "not spam so later messages reach you.",
}
# A confirmed change of address ends every other session (services/identity/domain.py).
SIGNED_OUT_ELSEWHERE = {
    "de": "Sobald die neue Adresse bestätigt ist, werden Sie aus Sicherheitsgründen auf allen anderen Geräten "
          "abgemeldet; auf dem Gerät, auf dem Sie die Änderung angefordert haben, bleiben Sie angemeldet.",
    "en": "Once the new address is confirmed, you will be signed out on all other devices for your security; "
          "on the device where you asked for the change you stay signed in.",
}
NOT_YOU = {
    "de": "Wenn Sie das nicht waren, können Sie diese Mail ignorieren.",
    "en": "If this wasn't you, you can ignore this mail.",
}
def _words(kind: str, locale: str, **v: str) -> Words:
    de = locale != "en"
    hello = f"Hallo {v.get('name', '')}," if de else f"Hello {v.get('name', '')},"
    if kind == "confirm-email":
        return Words(
            "Bitte bestätigen Sie Ihre E-Mail-Adresse" if de else "Please confirm your email address",
            hello,
            (f"willkommen bei Lotse! Bitte bestätigen Sie, dass {v['email']} Ihre Adresse ist. "
             "Der Link gilt 72 Stunden." if de else
             f"welcome to Lotse! Please confirm that {v['email']} is your address. The link is valid for 72 hours.",),
            "E-Mail-Adresse bestätigen" if de else "Confirm email address",
            (SPAM_NOTE[locale], NOT_YOU[locale]),
        )
    if kind == "confirm-new-email":
        return Words(
            "Bitte bestätigen Sie Ihre neue E-Mail-Adresse" if de else "Please confirm your new email address",
            hello,
            (f"Sie möchten die Adresse Ihres Lotse-Kontos in {v['email']} ändern. Bestätigen Sie das "
             "bitte innerhalb von 72 Stunden." if de else
             f"You asked to change the address of your Lotse account to {v['email']}. Please confirm within 72 hours.",
             SIGNED_OUT_ELSEWHERE[locale]),
            "Neue Adresse bestätigen" if de else "Confirm new address",
            (SPAM_NOTE[locale], NOT_YOU[locale]),
        )
    if kind == "email-change-notice":
        return Words(
            "Ihre E-Mail-Adresse soll geändert werden" if de else "Your email address is about to change",
            hello,
            ("für Ihr Lotse-Konto wurde eine Änderung der E-Mail-Adresse angefordert. Sie wird erst "
             "wirksam, wenn der Link an die neue Adresse bestätigt wird." if de else
             "a change of the email address of your Lotse account was requested. It takes effect only once "
             "the link sent to the new address is confirmed.",
             SIGNED_OUT_ELSEWHERE[locale],
             "Waren Sie das nicht? Ändern Sie bitte sofort Ihr Passwort." if de else
             "Wasn't you? Please change your password right away."),
        )
    if kind == "already-registered":
        return Words(
            "Sie haben bereits ein Lotse-Konto" if de else "You already have a Lotse account",
            hello,
            ("jemand – vermutlich Sie – wollte mit dieser Adresse ein neues Konto anlegen. Zu dieser Adresse "
             f"gibt es schon ein Konto mit dem Benutzernamen „{v['username']}“." if de else
             "someone – probably you – tried to create a new account with this address. There already is an "
             f"account with the username “{v['username']}” for it.",
             "Passwort vergessen? Sie können es in der App über „Passwort vergessen“ neu setzen." if de else
             "Forgot your password? You can set a new one in the app with “Forgot password”."),
            "Zu Lotse" if de else "Go to Lotse",
            (NOT_YOU[locale],),
        )
    if kind == "username-taken":
        return Words(
            "Der Benutzername ist vergeben" if de else "That username is taken",
            "Hallo," if de else "Hello,",
            (f"Sie wollten ein Lotse-Konto mit dem Benutzernamen „{v['username']}“ anlegen. Dieser Name ist "
             "leider schon vergeben. Bitte registrieren Sie sich mit einem anderen Benutzernamen." if de else
             f"You tried to create a Lotse account with the username “{v['username']}”. That name is already "
             "taken. Please register again with another username.",),
            "Zu Lotse" if de else "Go to Lotse",
            (NOT_YOU[locale],),
        )
    if kind == "email-in-use":
        return Words(
            "Diese Adresse gehört schon zu einem Konto" if de else "This address already belongs to an account",
            "Hallo," if de else "Hello,",
            ("jemand wollte diese Adresse für ein Lotse-Konto verwenden. Zu ihr gibt es aber bereits ein "
             "eigenes Konto, deshalb wurde nichts geändert." if de else
             "someone wanted to use this address for a Lotse account. It already has an account of its own, "
             "so nothing was changed.",),
            notes=(NOT_YOU[locale],),
        )
    if kind == "password-reset":
        return Words(
            "Neues Passwort für Lotse" if de else "A new password for Lotse",
            hello,
            ("Sie können jetzt ein neues Passwort setzen. Der Link gilt 60 Minuten und nur einmal." if de else
             "You can set a new password now. The link is valid for 60 minutes and works once.",),
            "Neues Passwort setzen" if de else "Set a new password",
            (NOT_YOU[locale],),
        )
    if kind == "admin-setup":
        return Words(
            "Ihr Administrationskonto bei Lotse" if de else "Your administrator account at Lotse",
            hello,
            (f"für Sie wurde ein Administrationskonto mit dem Benutzernamen „{v['username']}“ angelegt. "
             "Setzen Sie bitte innerhalb von 72 Stunden Ihr Passwort." if de else
             f"an administrator account with the username “{v['username']}” was created for you. Please set "
             "your password within 72 hours.",),
            "Passwort setzen" if de else "Set your password",
        )
    if kind == "password-changed":
        return Words(
            "Ihr Passwort wurde geändert" if de else "Your password was changed",
            hello,
            ("das Passwort Ihres Lotse-Kontos wurde soeben geändert. Aus Sicherheitsgründen wurden Sie "
             "auf Ihren anderen Geräten abgemeldet." if de else
             "the password of your Lotse account was just changed. For your security you were signed out "
             "on your other devices.",
             "Waren Sie das nicht? Setzen Sie bitte sofort über „Passwort vergessen“ ein neues Passwort." if de else
             "Wasn't you? Please set a new password right away with “Forgot password”."),
        )
    if kind == "data-export":
        return Words(
            "Ihre Daten bei Lotse" if de else "Your data at Lotse",
            hello,
            ("Sie haben eine Kopie aller Daten angefordert, die Lotse über Sie gespeichert hat: Ihr Konto, Ihre "
             "Anmeldungen, Ihre Mitgliedschaften bei Einträgen, Kontaktangaben mit Ihrer Adresse und Ihre "
             "Änderungen an Einträgen. Über den Link laden Sie sie als JSON-Datei herunter." if de else
             "You asked for a copy of all the data Lotse holds about you: your account, your sign-ins, your "
             "memberships of entries, contact details with your address, and your changes to entries. The link "
             "downloads them as a JSON file.",
             "Der Link gilt 24 Stunden und nur einmal. Die Daten werden erst beim Herunterladen zusammengestellt." if de
             else "The link is valid for 24 hours and works once. The data is put together only when you download it."),
            "Daten herunterladen" if de else "Download your data",
            ("Waren Sie das nicht? Ändern Sie bitte sofort Ihr Passwort: Jemand ist mit Ihrem Konto angemeldet." if de
             else "Wasn't you? Please change your password right away: someone is signed in to your account.",),
        )
    if kind == "account-deleted":
        return Words(
            "Ihr Lotse-Konto ist gelöscht" if de else "Your Lotse account is deleted",
            "Hallo," if de else "Hello,",
            ("Ihr Lotse-Konto und die Daten, die Lotse über Sie gespeichert hatte, sind gelöscht. Ihr "
             "Benutzername und Ihre Adresse sind wieder frei; Sie sind auf allen Geräten abgemeldet." if de else
             "Your Lotse account and the data Lotse held about you are deleted. Your username and address are "
             "free again; you are signed out on every device.",
             "Wo Einträge Ihre Änderungen zeigen, nennen sie statt Ihres Namens nun ein ehemaliges Mitglied." if de
             else "Where entries show changes you made, they now name a former member instead of you."),
            notes=("Waren Sie das nicht? Antworten Sie bitte nicht auf diese Mail, sondern wenden Sie sich an die "
                   "Betreiber von Lotse." if de else
                   "Wasn't you? Please do not reply to this mail; contact the people who run Lotse.",),
        )
    raise KeyError(kind)


def render(kind: str, *, to: str, locale: str, action_url: str | None = None, **values: str) -> OutgoingMail:
    locale = mail_locale(locale)
    return render_mail(kind, _words(kind, locale, **values), to=to, locale=locale, action_url=action_url)
