"""Which question the chat's newest screen shows: what a typed line is an answer to.

A press carries the position of its question in its callback data; a typed line
carries nothing. It is tied to the question that was on screen when it arrived: a
line sent twice, or typed just before the screen moved on, arrives while the earlier
question is still shown, and is refused when its turn comes and the question has
moved on, instead of being stored as the answer to a question the person never saw.

Kept in memory per chat (`chat_data`), set whenever a question is shown. After a
restart nothing is known: a line then gets the question shown again (with a word on
why) before it counts, since it may have been typed for any earlier screen.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from telegram import Message

SHOWN = "shown_step"  # chat_data key


@dataclass(frozen=True, slots=True)
class Shown:
    """The question a chat's newest screen shows: wave, position and its message."""

    wave: int
    index: int
    message: int | None

    def shows(self, wave: int, index: int) -> bool:
        return (self.wave, self.index) == (wave, index)


def remember(
    memory: MutableMapping[Any, Any] | None, wave: int, index: int, message: object
) -> None:
    """The chat now shows question `index` of `wave` (in `message`, if it is one)."""
    if memory is not None:
        shown_in = message.message_id if isinstance(message, Message) else None
        memory[SHOWN] = Shown(wave, index, shown_in)


def forget(memory: MutableMapping[Any, Any] | None) -> None:
    """No question on screen any more (the thank-you, an erased response)."""
    if memory is not None:
        memory.pop(SHOWN, None)


def on_screen(memory: MutableMapping[Any, Any] | None) -> Shown | None:
    """The question the chat's newest screen shows, if this process showed one."""
    shown = memory.get(SHOWN) if memory is not None else None
    return shown if isinstance(shown, Shown) else None
