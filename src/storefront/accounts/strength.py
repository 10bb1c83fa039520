"""Password strength (ASVS V6.2.4, V6.2.12): zxcvbn's estimate, offline, with its common-password
and dictionary lists, the account's email and name counted as words an attacker knows."""

from __future__ import annotations

import re

from zxcvbn_rs_py import zxcvbn

from storefront.errors import ValidationFailed

MIN_SCORE = 3
"""zxcvbn scores 0-4; 3 means at least ~10^8 guesses ("safely unguessable", in its authors' words)."""
SCORED_CHARS = 24
"""The estimator reads this many leading characters. Its l33t matching grows steeply with length
(worst cases measured: ~5 ms at 24 characters, ~20 ms at 32, ~200 ms at 128) and the binding holds
the GIL throughout, so a pool thread would stall the event loop just the same: the cost is bounded
by the input instead. A password is at least as strong as its first characters."""
MIN_WORD = 3
"""Shorter pieces of an email or name are not treated as personal words."""
_SEPARATORS = re.compile(r"[\W_]+")


def personal_words(email: str, full_name: str) -> list[str]:
    """What the account tells an attacker: the email's local part and the name, whole and in pieces."""
    local = email.rpartition("@")[0] or email
    words = {local.lower(), full_name.lower()}
    for text in (local, full_name):
        words.update(piece.lower() for piece in _SEPARATORS.split(text))
    return sorted((word for word in words if len(word) >= MIN_WORD), key=len, reverse=True)


def _judge(password: str, words: list[str]) -> str | None:
    """None when the estimate reaches MIN_SCORE, else the estimator's feedback."""
    estimate = zxcvbn(password[:SCORED_CHARS], words)
    if int(estimate.score) >= MIN_SCORE:
        return None
    feedback = estimate.feedback
    advice = [] if feedback is None else [str(feedback.warning or ""), *map(str, feedback.suggestions)]
    return " ".join(text for text in advice if text) or "Add another word or two. Uncommon words are better."


def weakness(password: str, email: str, full_name: str) -> str | None:
    """Why `password` is too weak for this account, or None when it is strong enough: the estimate
    of the password, then of what is left once the account's own words are taken out of it."""
    words = personal_words(email, full_name)
    if (advice := _judge(password, words)) is not None:
        return f"is too weak: {advice}"
    if not words:
        return None
    rest = re.sub("|".join(map(re.escape, words)), "", password, flags=re.IGNORECASE)
    if rest != password and _judge(rest, words) is not None:
        return "is built from the account's email or name: what is left without them is too weak."
    return None


def require_strong(field: str, password: str, email: str, full_name: str) -> None:
    """422 on `field` with the estimator's advice when `password` is too weak for this account."""
    if (problem := weakness(password, email, full_name)) is not None:
        raise ValidationFailed.on(field, problem)
