"""The master key, the secrets derived from it, and the session secrets that are not.

The master key never enters the database. With the per-wave salt (which does) it
derives the wave secret, and the wave secret keys the HMAC that turns a Telegram user
id into a completion marker. A stolen database file therefore links nothing;
destroying a wave's salt makes the link impossible for anyone, key holder included.

A response in progress is another matter: whoever holds the master key can compute
every marker. So an unfinished response is keyed and encrypted under a *session
secret* (`new_session_secret`) that no key derives: it lives in the person's own chat
(in every button's callback data) and in the memory of the running bot, never in the
database. `draft_key` names the row, `draft_cipher` encrypts it (AES-GCM, `lock`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import MasterKeyError

KEY_BYTES = 32
SALT_BYTES = 32
_WAVE_CONTEXT = b"trustscan/wave-secret/v1\x00"
_CHECK_CONTEXT = b"trustscan/key-check/v1"
_DATABASE_CONTEXT = b"trustscan/database-key/v1"
_SEAL_CONTEXT = b"trustscan/session-seal/v1\x00"
_CONSENT_CONTEXT = b"trustscan/consent-screen/v1\x00"
_CODE_CONTEXT = b"trustscan/code-hash/v1"
SEALED_BYTES = 32  # every sealed payload is padded to this length: its size says nothing
SECRET_BYTES = 12  # a session secret: 96 bits, 16 characters of callback data
SECRET_CHARS = 16
_DRAFT_ROW = b"trustscan/draft-row/v1"
_DRAFT_CIPHER = b"trustscan/draft-cipher/v1"
_DRAFT_ITEM = b"trustscan/draft-item/v1\x00"
LOCK_BLOCK = 64  # locked payloads are padded to a multiple of this: sizes say little


def parse_key(text: str, source: str) -> bytes:
    """Decode a key given as 64 hex digits or URL-safe base64 of at least 32 bytes."""
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        try:
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            key = b""
    if len(key) < KEY_BYTES:
        raise MasterKeyError(
            f"{source}: the master key must be {KEY_BYTES * 2} hex digits (or base64 of "
            f"{KEY_BYTES} bytes); generate one with: python -c 'import secrets; "
            f"print(secrets.token_hex(32))'"
        )
    return key


def load_or_create_key(path: Path, env_value: str | None = None) -> bytes:
    """The key from the environment if given, else from `path`, created (0600) on first run."""
    if env_value:
        return parse_key(env_value, "TRUSTSCAN_KEY")
    try:
        return parse_key(path.read_text(encoding="ascii"), str(path))
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"{path}: cannot read the master key file: {exc}") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return parse_key(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def wave_secret(master_key: bytes, salt: bytes) -> bytes:
    return hmac.new(master_key, _WAVE_CONTEXT + salt, hashlib.sha256).digest()


def session_key(secret: bytes, telegram_user_id: int) -> bytes:
    """HMAC-SHA256(wave_secret, user id): one key per person per wave, not reversible."""
    return hmac.new(secret, str(int(telegram_user_id)).encode("ascii"), hashlib.sha256).digest()


def consent_key(secret: bytes, telegram_user_id: int) -> bytes:
    """The row key of a consent screen shown to a person: like the session key, but
    another value, so the two rows of one person are not seen to belong together."""
    message = _CONSENT_CONTEXT + str(int(telegram_user_id)).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()


def database_key(master_key: bytes) -> bytes:
    """The SQLCipher key of the database files, its WAL and backups."""
    return hmac.new(master_key, _DATABASE_CONTEXT, hashlib.sha256).digest()


def seal_key(secret: bytes, telegram_user_id: int) -> bytes:
    """The key of what a session keeps for the chat (language, last typed message).

    Unlike the session key it is never stored, so the sealed state opens only for the
    person whose Telegram id arrives with the update.
    """
    message = _SEAL_CONTEXT + str(int(telegram_user_id)).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()


def seal(key: bytes, payload: bytes) -> bytes:
    """Encrypt and authenticate a short payload (HMAC-SHA256 as stream cipher and MAC).

    nonce ‖ ciphertext ‖ tag; the payload is padded to `SEALED_BYTES` so its length
    (a message id's digits, a language code) shows nothing either.
    """
    if len(payload) >= SEALED_BYTES:
        raise ValueError(f"a sealed payload holds fewer than {SEALED_BYTES} bytes")
    padded = bytes([len(payload)]) + payload + bytes(SEALED_BYTES - len(payload) - 1)
    nonce = secrets.token_bytes(16)
    stream = hmac.new(key, b"enc" + nonce, hashlib.sha256).digest()
    body = bytes(a ^ b for a, b in zip(padded, stream, strict=True))
    tag = hmac.new(key, b"mac" + nonce + body, hashlib.sha256).digest()[:16]
    return nonce + body + tag


def unseal(key: bytes, blob: bytes | None) -> bytes | None:
    """The payload of `seal`, or None when there is none or it was not sealed with `key`."""
    if not blob or len(blob) != 16 + SEALED_BYTES + 16:
        return None
    nonce, body, tag = blob[:16], blob[16:-16], blob[-16:]
    expected = hmac.new(key, b"mac" + nonce + body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        return None
    stream = hmac.new(key, b"enc" + nonce, hashlib.sha256).digest()
    padded = bytes(a ^ b for a, b in zip(body, stream, strict=True))
    return padded[1 : 1 + padded[0]] if padded[0] < SEALED_BYTES else None


def code_key(master_key: bytes) -> bytes:
    """The key of the single-use codes' hashes: derived here, never stored anywhere."""
    return hmac.new(master_key, _CODE_CONTEXT, hashlib.sha256).digest()


def code_hash(key: bytes, code: str) -> bytes:
    """HMAC-SHA256(code key, normalised code): what the database keeps of a code.

    Keyed by a secret outside the database, so a dump of the table alone lets nobody
    test guesses; a code has about 79 bits, so even a key holder cannot list them all.
    """
    return hmac.new(key, code.encode("utf-8"), hashlib.sha256).digest()


def key_check(master_key: bytes) -> str:
    """A fingerprint stored in the database so a wrong key is detected, not silently used."""
    return hmac.new(master_key, _CHECK_CONTEXT, hashlib.sha256).hexdigest()[:16]


# -- session secrets: held by the person's chat and the running bot, never stored -------


def new_session_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def secret_text(secret: bytes) -> str:
    """The secret as it travels in callback data: 16 URL-safe characters."""
    return base64.urlsafe_b64encode(secret).decode("ascii")


def parse_secret(text: str) -> bytes | None:
    """The secret of `secret_text`, or None for anything else (forged, truncated)."""
    if len(text) != SECRET_CHARS:
        return None
    try:
        secret = base64.urlsafe_b64decode(text)
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) == SECRET_BYTES else None


def draft_key(secret: bytes) -> bytes:
    """The row key of an unfinished response: found only by whoever holds the secret."""
    return hmac.new(secret, _DRAFT_ROW, hashlib.sha256).digest()


def consent_row(secret: bytes) -> bytes:
    """The row key of a consent screen shown with this secret (before the draft exists)."""
    return hmac.new(secret, _CONSENT_CONTEXT, hashlib.sha256).digest()


def draft_cipher(secret: bytes) -> bytes:
    """The AES-256-GCM key of an unfinished response's state and answers."""
    return hmac.new(secret, _DRAFT_CIPHER, hashlib.sha256).digest()


def draft_item(cipher_key: bytes, question: str, target: str) -> bytes:
    """The row key of one answered item of a draft (which question it is stays hidden)."""
    message = _DRAFT_ITEM + question.encode("utf-8") + b"\x00" + target.encode("utf-8")
    return hmac.new(cipher_key, message, hashlib.sha256).digest()[:16]


def completion_marker(secret: bytes, telegram_user_id: int) -> bytes:
    """What marks a person as finished in a wave: written only when their completion is
    released together with at least k − 1 others (or never, if it waits for the close)."""
    return session_key(secret, telegram_user_id)


def lock(key: bytes, payload: bytes) -> bytes:
    """AES-256-GCM of `payload` padded to a multiple of `LOCK_BLOCK`: nonce ‖ ciphertext."""
    padded = payload + b"\x80" + bytes(-(len(payload) + 1) % LOCK_BLOCK)
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, padded, None)


def unlock(key: bytes, blob: bytes | None) -> bytes | None:
    """The payload of `lock`, or None when there is none or it was locked with another key."""
    if not blob or len(blob) < 12 + 16 + 1:
        return None
    try:
        padded = AESGCM(key).decrypt(blob[:12], blob[12:], None)
    except InvalidTag:
        return None
    return padded[: padded.rindex(b"\x80")]
