"""Who is looking at a welcome with the consent button: kept so a restart forgets nothing.

Before someone taps "I'll take part" there is no draft yet, but the bot must still know
that the person is on the consent screen: a line they type then gets a hint to tap the
button (not "you are not taking part"), and a tap on an older copy of the button brings
the next step below the newest message.

The welcome already carries the person's session secret (`Memory.consents`): the mark
is a row keyed by `keys.consent_row(secret)` holding only the newest message id of that
screen, encrypted under the same secret. Nothing in it is computable from a Telegram id,
so whoever holds the master key cannot tell whose screen it is, nor match it to the
draft that replaces it. After a restart the consent button's press brings the secret
back (`Store.recall`). Beginning the response removes the mark; the close removes all.
"""

from __future__ import annotations

from .. import keys
from .base import Database
from .sessions import Memory
from .waves import Waves


class ConsentScreens:
    def __init__(self, base: Database, waves: Waves, memory: Memory) -> None:
        self._base = base
        self._waves = waves
        self._memory = memory

    def secret(self, wave_id: int, user_id: int) -> bytes:
        """The session secret of the person's welcome in `wave_id` (made the first time)."""
        secret = self._memory.consents.get((wave_id, user_id))
        if secret is None:
            secret = self._memory.consents[(wave_id, user_id)] = keys.new_session_secret()
        return secret

    async def show(self, wave_id: int, user_id: int, message_id: int) -> None:
        """The person is on the consent screen of `wave_id`, newest message `message_id`."""
        await self._waves.secret(wave_id)  # the wave must be open
        secret = self.secret(wave_id, user_id)
        sealed = keys.lock(keys.draft_cipher(secret), str(int(message_id)).encode("ascii"))
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO consent_screens (key, wave, sealed) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed",
                (keys.consent_row(secret), wave_id, sealed),
            )

    async def shown(self, wave_id: int, user_id: int) -> int | None:
        """The newest message of the person's consent screen in `wave_id`; None if none."""
        await self._waves.secret(wave_id)
        secret = self._memory.consents.get((wave_id, user_id))
        if secret is None:
            return None
        rows = await self._base.read(
            "SELECT sealed FROM consent_screens WHERE key = ?", (keys.consent_row(secret),)
        )
        payload = keys.unlock(keys.draft_cipher(secret), rows[0][0]) if rows else None
        return int(payload) if payload and payload.isdigit() else None

    async def clear(self, wave_id: int, user_id: int) -> None:
        """The person has begun (or the screen is gone): forget the mark."""
        secret = self._memory.consents.pop((wave_id, user_id), None)
        if secret is None:
            return
        async with self._base.transaction() as db:
            await db.execute(
                "DELETE FROM consent_screens WHERE key = ?", (keys.consent_row(secret),)
            )

    async def recall(self, user_id: int, secret: bytes) -> bool:
        """A press brought this secret: if it is a consent screen's, remember it is theirs."""
        rows = await self._base.read(
            "SELECT wave FROM consent_screens WHERE key = ?", (keys.consent_row(secret),)
        )
        if not rows:
            return False
        self._memory.consents.setdefault((rows[0][0], user_id), secret)
        return True
