"""Words of the mail-link pages, in German (the default) and English."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("de", "en")
DEFAULT = "de"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "de": {
        "brand": "Lotse",
        "confirm.title": "E-Mail-Adresse bestätigen",
        "confirm.lead": "Tippen Sie auf die Schaltfläche, um Ihre E-Mail-Adresse für Lotse zu bestätigen.",
        "confirm.button": "Adresse bestätigen",
        "confirm.done.title": "Adresse bestätigt",
        "confirm.done.text": "Vielen Dank! Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt in Lotse anmelden.",
        "confirm.expired.title": "Dieser Link gilt nicht mehr",
        "confirm.expired.text": "Der Bestätigungslink ist abgelaufen oder wurde schon benutzt. Geben Sie Ihre E-Mail-Adresse ein, dann schicken wir Ihnen einen neuen Link.",
        "confirm.resend.button": "Neuen Link senden",
        "confirm.resent.title": "Neuer Link unterwegs",
        "confirm.resent.text": "Wenn zu dieser Adresse ein Konto auf seine Bestätigung wartet, haben wir einen neuen Link geschickt. Bitte sehen Sie in Ihr Postfach (auch in den Spam-Ordner).",
        "reset.title": "Neues Passwort festlegen",
        "reset.lead": "Wählen Sie ein neues Passwort für Ihr Lotse-Konto. Danach sind Sie auf allen Geräten abgemeldet.",
        "reset.password": "Neues Passwort",
        "reset.repeat": "Neues Passwort wiederholen",
        "reset.button": "Passwort speichern",
        "reset.mismatch": "Die beiden Passwörter stimmen nicht überein.",
        "reset.weak": "Dieses Passwort können wir nicht annehmen:",
        "reset.done.title": "Passwort geändert",
        "reset.done.text": "Ihr neues Passwort ist gespeichert. Melden Sie sich jetzt in Lotse mit dem neuen Passwort an.",
        "reset.expired.title": "Dieser Link gilt nicht mehr",
        "reset.expired.text": "Der Link zum Zurücksetzen ist abgelaufen oder wurde schon benutzt. Geben Sie Ihren Benutzernamen oder Ihre E-Mail-Adresse ein, dann schicken wir Ihnen einen neuen Link.",
        "reset.request.button": "Neuen Link senden",
        "reset.requested.title": "Neuer Link unterwegs",
        "reset.requested.text": "Wenn es dieses Konto gibt, haben wir einen Link zum Zurücksetzen an seine E-Mail-Adresse geschickt.",
        "email": "E-Mail-Adresse",
        "identifier": "Benutzername oder E-Mail-Adresse",
        "missing.title": "Der Link ist unvollständig",
        "missing.text": "Diesem Link fehlt ein Teil. Öffnen Sie bitte den Link aus der E-Mail noch einmal, am besten durch Antippen statt Kopieren.",
        "limited.title": "Bitte warten Sie einen Moment",
        "limited.text": "Zu viele Versuche in kurzer Zeit. Bitte versuchen Sie es in {minutes} Minuten noch einmal.",
        "unavailable.title": "Gerade nicht erreichbar",
        "unavailable.text": "Lotse ist gerade nicht erreichbar. Bitte versuchen Sie es in ein paar Minuten noch einmal – Ihr Link bleibt gültig.",
        "confirm.taken.title": "Adresse schon vergeben",
        "confirm.taken.text": "Diese E-Mail-Adresse gehört inzwischen zu einem anderen Lotse-Konto. Ihr Konto behält seine bisherige Adresse.",
        "retry": "Noch einmal versuchen",
        "language.switch": "English",
        "invitation.title": "Einladung zu Lotse",
        "invitation.lead": "Sie sind eingeladen, den Eintrag „{actor}“ bei Lotse als {role} mitzupflegen.",
        "invitation.signin": "Melden Sie sich mit Ihrem Lotse-Konto an, um die Einladung anzunehmen. Noch kein Konto? Registrieren Sie sich zuerst in der Lotse-App und öffnen Sie dann diesen Link noch einmal.",
        "invitation.password": "Passwort",
        "invitation.button": "Anmelden und Einladung annehmen",
        "invitation.role.owner": "Inhaber*in",
        "invitation.role.editor": "Redakteur*in",
        "invitation.signin_failed": "Benutzername, E-Mail-Adresse oder Passwort stimmen nicht.",
        "invitation.unconfirmed": "Dieses Konto kann sich noch nicht anmelden. Bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link in unserer Mail.",
        "invitation.done.title": "Einladung angenommen",
        "invitation.done.text": "Willkommen! Sie pflegen jetzt den Eintrag „{actor}“ mit. Öffnen Sie Lotse, um ihn zu bearbeiten.",
        "invitation.invalid.title": "Diese Einladung gilt nicht mehr",
        "invitation.invalid.text": "Der Einladungslink ist abgelaufen, wurde schon benutzt oder durch eine neuere Einladung ersetzt. Bitten Sie die Person, die Sie eingeladen hat, um eine neue Einladung.",
        "invitation.member.title": "Sie sind schon dabei",
        "invitation.member.text": "Ihr Konto gehört bereits zu diesem Eintrag. Die Einladung ist nicht nötig.",
    },
    "en": {
        "brand": "Lotse",
        "confirm.title": "Confirm your email address",
        "confirm.lead": "Tap the button to confirm your email address for Lotse.",
        "confirm.button": "Confirm address",
        "confirm.done.title": "Address confirmed",
        "confirm.done.text": "Thank you! Your email address is confirmed. You can now sign in to Lotse.",
        "confirm.expired.title": "This link is no longer valid",
        "confirm.expired.text": "The confirmation link has expired or was already used. Enter your email address and we will send you a new link.",
        "confirm.resend.button": "Send a new link",
        "confirm.resent.title": "A new link is on its way",
        "confirm.resent.text": "If an account with this address is waiting for confirmation, we have sent a new link. Please check your inbox (and your spam folder).",
        "reset.title": "Choose a new password",
        "reset.lead": "Choose a new password for your Lotse account. Afterwards you will be signed out on all devices.",
        "reset.password": "New password",
        "reset.repeat": "Repeat new password",
        "reset.button": "Save password",
        "reset.mismatch": "The two passwords do not match.",
        "reset.weak": "We cannot accept this password:",
        "reset.done.title": "Password changed",
        "reset.done.text": "Your new password is saved. Sign in to Lotse with your new password now.",
        "reset.expired.title": "This link is no longer valid",
        "reset.expired.text": "The reset link has expired or was already used. Enter your username or email address and we will send you a new link.",
        "reset.request.button": "Send a new link",
        "reset.requested.title": "A new link is on its way",
        "reset.requested.text": "If this account exists, we have sent a reset link to its email address.",
        "email": "Email address",
        "identifier": "Username or email address",
        "missing.title": "This link is incomplete",
        "missing.text": "Part of this link is missing. Please open the link from the email again, preferably by tapping it rather than copying it.",
        "limited.title": "Please wait a moment",
        "limited.text": "Too many attempts in a short time. Please try again in {minutes} minutes.",
        "unavailable.title": "Not reachable right now",
        "unavailable.text": "Lotse cannot be reached right now. Please try again in a few minutes – your link stays valid.",
        "confirm.taken.title": "Address already taken",
        "confirm.taken.text": "This email address now belongs to another Lotse account. Your account keeps its current address.",
        "retry": "Try again",
        "language.switch": "Deutsch",
        "invitation.title": "Invitation to Lotse",
        "invitation.lead": "You are invited to help keep the entry “{actor}” on Lotse up to date, as {role}.",
        "invitation.signin": "Sign in with your Lotse account to accept the invitation. No account yet? Register in the Lotse app first, then open this link again.",
        "invitation.password": "Password",
        "invitation.button": "Sign in and accept",
        "invitation.role.owner": "owner",
        "invitation.role.editor": "editor",
        "invitation.signin_failed": "The username, email address or password is not right.",
        "invitation.unconfirmed": "This account cannot sign in yet. Please confirm your email address first, using the link in our mail.",
        "invitation.done.title": "Invitation accepted",
        "invitation.done.text": "Welcome! You now help keep the entry “{actor}” up to date. Open Lotse to edit it.",
        "invitation.invalid.title": "This invitation is no longer valid",
        "invitation.invalid.text": "The invitation link has expired, was already used, or was replaced by a newer invitation. Please ask the person who invited you for a new one.",
        "invitation.member.title": "You are already in",
        "invitation.member.text": "Your account already belongs to this entry. The invitation is not needed.",
    },
}


def language(explicit: str | None, accept_language: str | None) -> str:
    """`?lang=` (or the form's `lang`) wins; else the best of de/en the browser asks for; else German."""
    if explicit in LANGUAGES:
        return explicit
    best, best_q = DEFAULT, 0.0
    for entry in (accept_language or "").split(","):
        tag, _, params = entry.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Strictly greater: on a tie the earlier entry, the browser's stated preference, stays;
        # q=0 means "not this one" and never wins.
        if q > best_q:
            best, best_q = primary, q
    return best
