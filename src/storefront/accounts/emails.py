"""The account emails: what each outbox kind says, as text and HTML (user text escaped in the HTML).

A message's payload holds what it needs to be rendered when it is sent: the recipient's name and,
for a link, the nonce its token is derived from (`security.email_token`), never the token itself.
The name is left out of every message to an address not yet verified (the welcome, a verification
link, the notice of a second registration, and any message to such an address): whoever typed that
address also chose the name, and our mail must not carry a stranger's text to it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from storefront.accounts.security import email_token
from storefront.platform.outbox import OutboxMessage, Renderer, UnknownKind
from storefront.platform.settings import Settings

WELCOME = "welcome"
VERIFY_EMAIL = "verify_email"
EMAIL_CHANGED = "email_changed"
RESET_PASSWORD = "reset_password"
PASSWORD_CHANGED = "password_changed"
ACCOUNT_EXISTS = "account_exists"
FAILED_LOGINS = "failed_logins"
VERIFY_PATH, RESET_PATH = "/verify-email", "/reset-password"
VERIFY_TTL_SECONDS = 24 * 3600
RESET_TTL_SECONDS = 30 * 60
# Kinds queued under an earlier name, delivered as the kind they became. A worker of the version
# before migration 0005_reset_password_kind still queues the reset link as "password_reset" during a
# rolling deploy, after that migration renamed the rows already queued; remove the entry once no
# worker of that version runs (and none of its rows is left pending).
FORMER_KINDS = {"password_reset": RESET_PASSWORD}


def lifetime_text(seconds: int) -> str:
    """A link's lifetime as people write it: `24 hours`, `30 minutes`, `1 hour`."""
    count, unit = (seconds // 3600, "hour") if seconds % 3600 == 0 else (seconds // 60, "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"


VERIFY_LIFETIME, RESET_LIFETIME = lifetime_text(VERIFY_TTL_SECONDS), lifetime_text(RESET_TTL_SECONDS)


@dataclass(frozen=True)
class Draft:
    """A message before its envelope: subject, paragraphs, and an optional call to action."""

    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    link: str | None = None
    action: str = ""
    after: tuple[str, ...] = ()


def greeting(payload: Mapping[str, Any]) -> str:
    """ "Hello Ada," when the payload names the recipient, else "Hello,"."""
    name = payload.get("name")
    return f"Hello {name}," if name else "Hello,"


def mask_email(address: str) -> str:
    """`ada@example.com` → `a**@example.com`: enough to recognise, too little to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"


def text_body(draft: Draft) -> str:
    """The plain-text part."""
    parts = [draft.greeting, *draft.paragraphs]
    if draft.link:
        parts.append(draft.link)
    parts += draft.after
    return "\n\n".join(parts) + "\n"


def html_body(draft: Draft) -> str:
    """The HTML part; every piece of text is escaped (names and addresses are user input)."""
    paragraphs = [f"<p>{html.escape(p)}</p>" for p in (draft.greeting, *draft.paragraphs)]
    if draft.link:
        href = html.escape(draft.link, quote=True)
        paragraphs.append(f'<p><a href="{href}">{html.escape(draft.action)}</a></p>')
        paragraphs.append(f"<p>{html.escape('Or paste this address into your browser:')}<br>{href}</p>")
    paragraphs += [f"<p>{html.escape(p)}</p>" for p in draft.after]
    return "<!doctype html>\n<html><body>\n" + "\n".join(paragraphs) + "\n</body></html>\n"


def to_message(draft: Draft) -> EmailMessage:
    """`multipart/alternative`: the text part first, the HTML part second (the one clients prefer)."""
    message = EmailMessage()
    message["Subject"] = draft.subject
    message.set_content(text_body(draft))
    message.add_alternative(html_body(draft), subtype="html")
    return message


class Drafts:
    """The drafts of each kind, for one shop name and base URL (and the key that makes tokens)."""

    def __init__(self, shop: str, base_url: str, secret_key: str) -> None:
        self.shop = shop
        self.base_url = base_url
        self.secret_key = secret_key
        self.by_kind: dict[str, Callable[[Mapping[str, Any]], Draft]] = {
            WELCOME: self.welcome,
            VERIFY_EMAIL: self.verify_email,
            EMAIL_CHANGED: self.email_changed,
            RESET_PASSWORD: self.reset_password,
            PASSWORD_CHANGED: self.password_changed,
            ACCOUNT_EXISTS: self.account_exists,
            FAILED_LOGINS: self.failed_logins,
        }
        self.by_kind |= {former: self.by_kind[kind] for former, kind in FORMER_KINDS.items()}

    def link(self, path: str, nonce: str) -> str:
        """The client app's page at `path`, with the token of `nonce` as its `token` parameter."""
        return f"{self.base_url}{path}?{urlencode({'token': email_token(self.secret_key, nonce)})}"

    def welcome(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Welcome to {self.shop}: please confirm your email",
            greeting=greeting(payload),
            paragraphs=(
                f"Welcome to {self.shop}. Please confirm your email address; the link works once, for "
                f"{VERIFY_LIFETIME}.",
            ),
            link=self.link(VERIFY_PATH, payload["nonce"]),
            action="Confirm my email",
            after=("If you did not create this account, ignore this message.",),
        )

    def verify_email(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Confirm your email address for {self.shop}",
            greeting=greeting(payload),
            paragraphs=(
                f"Please confirm this email address for your account; the link works once, for {VERIFY_LIFETIME}.",
            ),
            link=self.link(VERIFY_PATH, payload["nonce"]),
            action="Confirm my email",
            after=("If you did not ask for this, ignore this message.",),
        )

    def account_exists(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Someone tried to register at {self.shop} with your email",
            greeting=greeting(payload),
            paragraphs=(
                f"Someone just tried to create a {self.shop} account with this email address, which already "
                "has one. Nothing was changed: no new account was made, and your password stays as it is.",
                "If it was you, sign in with your password, or reset it from the sign-in page if you forgot it.",
            ),
            after=("If it was not you, ignore this message.",),
        )

    def email_changed(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Your {self.shop} email address was changed",
            greeting=greeting(payload),
            paragraphs=(
                f"The email address of your {self.shop} account was changed to {mask_email(payload['new_email'])}. "
                "Messages about the account now go there.",
                "If you did not make this change, contact us at once by replying to this message.",
            ),
        )

    def reset_password(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Reset your {self.shop} password",
            greeting=greeting(payload),
            paragraphs=(
                "Somebody asked to reset the password of your account. The link below works once, "
                f"for {RESET_LIFETIME}; a newer request replaces it.",
            ),
            link=self.link(RESET_PATH, payload["nonce"]),
            action="Choose a new password",
            after=("If it was not you, ignore this message: your password stays as it is.",),
        )

    def password_changed(self, payload: Mapping[str, Any]) -> Draft:
        return Draft(
            subject=f"Your {self.shop} password was changed",
            greeting=greeting(payload),
            paragraphs=(
                "The password of your account was just reset, and every session signed in to it was signed out.",
                "If you did not do this, reset your password again at once and contact us by replying to this message.",
            ),
        )

    def failed_logins(self, payload: Mapping[str, Any]) -> Draft:
        # No name: whoever registered the address chose it, and the address may not be theirs.
        return Draft(
            subject=f"Many failed sign-ins to your {self.shop} account",
            greeting="Hello,",
            paragraphs=(
                f"Within the last hour, many attempts to sign in to your {self.shop} account used a wrong "
                "password. We now slow such attempts down; you can still sign in as usual.",
                "If it was not you, choose a long password that you use nowhere else (reset it from the sign-in page).",
            ),
        )

    def render(self, message: OutboxMessage) -> EmailMessage:
        """The subject and body of a claimed message (UnknownKind for a kind this version does not know)."""
        draft = self.by_kind.get(message.kind)
        if draft is None:
            raise UnknownKind(message.kind)
        return to_message(draft(message.payload))


def renderer(settings: Settings) -> Renderer:
    """The outbox renderer of the account emails for these settings."""
    mail = settings.mail
    shop = mail.sender.display_name or "Storefront"
    assert mail.public_base_url is not None, "load_settings gives it a default"
    return Drafts(shop, mail.public_base_url, settings.auth.secret_key).render
