"""Who is looking at a welcome with the consent button: kept so a restart forgets nothing.

Before someone taps "I'll take part" there is no session yet, but the bot must still
know that the person is on the consent screen: a line they type then gets a hint to
tap the button (not "you are not taking part"), and a tap on an older copy of the
button brings the next step below the newest message. The mark is a row keyed by
HMAC(wave secret, "consent" ‖ Telegram id) holding only the newest message id of that
screen, sealed under the same per-person key as a session's state (`keys.seal`): nothing
in it joins with `contacts` or a session, and without the wave secret it cannot be found
from a Telegram id. Beginning the response removes it; closing the wave removes them all.
"""

from __future__ import annotations

from .. import keys
from .base import Database
from .waves import Waves


class ConsentScreens:
    def __init__(self, base: Database, waves: Waves) -> None:
        self._base = base
        self._waves = waves

    async def _keys(self, wave_id: int, user_id: int) -> tuple[bytes, bytes]:
        secret = await self._waves.secret(wave_id)
        return keys.consent_key(secret, user_id), keys.seal_key(secret, user_id)

    async def show(self, wave_id: int, user_id: int, message_id: int) -> None:
        """The person is on the consent screen of `wave_id`, newest message `message_id`."""
        key, seal = await self._keys(wave_id, user_id)
        sealed = keys.seal(seal, str(int(message_id)).encode("ascii"))
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO consent_screens (key, wave, sealed) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed",
                (key, wave_id, sealed),
            )

    async def shown(self, wave_id: int, user_id: int) -> int | None:
        """The newest message of the person's consent screen in `wave_id`; None if none."""
        key, seal = await self._keys(wave_id, user_id)
        rows = await self._base.read("SELECT sealed FROM consent_screens WHERE key = ?", (key,))
        payload = keys.unseal(seal, rows[0][0]) if rows else None
        return int(payload) if payload and payload.isdigit() else None

    async def clear(self, wave_id: int, user_id: int) -> None:
        """The person has begun (or the screen is gone): forget the mark."""
        key, _ = await self._keys(wave_id, user_id)
        async with self._base.transaction() as db:
            await db.execute("DELETE FROM consent_screens WHERE key = ?", (key,))
