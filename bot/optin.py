"""Signed opt-in buttons: only a chat that just completed a response may opt in.

The thank-you message carries `o:<org>:<mac>`, where the mac binds the chat and the
organisation under a key derived from the master key. A forged `o:<org>` (or a mac
made for another chat or organisation) is refused, so nobody can make themselves a
reminder contact of an organisation without having answered through the bot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

OPT_IN_CONTEXT = b"trustscan/opt-in/v1"
MAC_CHARS = 10  # URL-safe base64 characters: 60 bits, plenty against guessing
PATTERN = rf"^o:[\w-]{{1,24}}:[\w-]{{{MAC_CHARS}}}$"  # at most 2 + 24 + 1 + 10 = 37 bytes


def opt_in_key(master_key: bytes) -> bytes:
    """The signing key for opt-in buttons, derived from (never equal to) the master key."""
    return hmac.new(master_key, OPT_IN_CONTEXT, hashlib.sha256).digest()


def opt_in_mac(key: bytes, chat_id: int, org: str) -> str:
    digest = hmac.new(key, f"{chat_id}:{org}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:MAC_CHARS]


def opt_in_data(key: bytes, chat_id: int, org: str) -> str:
    """The callback data of the opt-in button for this chat and organisation."""
    return f"o:{org}:{opt_in_mac(key, chat_id, org)}"


def verified_org(key: bytes, chat_id: int, data: str) -> str | None:
    """The organisation of a genuine opt-in press from this chat, else None."""
    prefix, _, rest = data.partition(":")
    org, _, mac = rest.rpartition(":")
    if prefix != "o" or not org or len(mac) != MAC_CHARS:
        return None
    if not hmac.compare_digest(mac.encode(), opt_in_mac(key, chat_id, org).encode()):
        return None
    return org
