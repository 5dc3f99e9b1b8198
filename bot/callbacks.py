"""The callback-data alphabet: every button's data, encoded, decoded and matched here.

Respondent presses are compact and prefixed, always carry the wave and the item
position, and stay within Telegram's 64 bytes:

    a:<wave>:<pos>:<value>          answer (likert point, nps number, choice value)
    k:<wave>:<pos>  s:…  b:…  n:…   don't know, skip, back, next (info)
    m:<wave>:<pos>:<mask>:<opt>     toggle a multi option (mask = chosen so far, hex)
    M:<wave>:<pos>:<mask>           multi done
    l:<wave>:<pos>:<p.p.p>[/<m>]:<op> allocate (<m>: the option amounts go to next):
                                    <opt>+ <opt>- one step, <opt>++ <opt>-- two, <opt>= the
                                    rest; *<n> an amount for option <m>, *r its rest;
                                    ~ the paired earlier answer; x start over
    L:<wave>:<pos>:<p.p.p>          allocate done
    p:<wave>:<pos>:<i.i.i>:<opt>    ranking: put option <opt> next (<i.i.i> = order so far)
    p:<wave>:<pos>:-                ranking: start over
    P:<wave>:<pos>:<i.i.i>          ranking done

Every button of a respondent's own flow (presses, consent, role) also ends in
`|<secret>`: their session secret (`surveys.keys.secret_text`, 16 characters), which
the database never holds. After a restart, the first press brings it back to the store
(`sign`, `secret_of`, and the `recall` handler in `bot.app`).

The widget state of multi, allocate and ranking lives in the callback data itself, so a
restart never loses it and nothing half-made is stored. Quick taps on a keyboard that is
not redrawn yet apply to the newest state its message showed (multi and allocate, kept in
memory per chat: `widgets.redraw_in_order`). The other buttons (consent,
role, erase, language, closing a wave, opt-in) have their own anchored patterns below;
the letters of all of them are disjoint.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from surveys import keys

MAX_CALLBACK = 64  # bytes: Telegram's limit


class Action(enum.StrEnum):
    """The first letter of a respondent press: what the button does."""

    ANSWER = "a"
    DONT_KNOW = "k"
    SKIP = "s"
    BACK = "b"
    NEXT = "n"
    MULTI_TOGGLE = "m"
    MULTI_DONE = "M"
    ALLOCATE_STEP = "l"
    ALLOCATE_DONE = "L"
    RANK_PICK = "p"
    RANK_DONE = "P"


# every press: one action letter, the wave, the item position (anchored; args may follow)
PRESS_PATTERN = rf"^[{''.join(a.value for a in Action)}]:\d+:\d+"
SECRET = "|"  # what separates the session secret at the end of a button's data
SECRET_PATTERN = rf"\{SECRET}[\w-]{{{keys.SECRET_CHARS}}}$"
SIGNED_PATTERN = rf"^.*{SECRET_PATTERN}"  # any button that carries a session secret
CONSENT_PATTERN = rf"^c:[\w-]{{1,62}}({SECRET_PATTERN}|$)"
ROLE_PATTERN = rf"^r:[\w-]{{1,40}}:[\w-]{{1,24}}({SECRET_PATTERN}|$)"
DELETE_PATTERN = r"^[xX]$"  # x: erase, X: cancel
CLOSE_WAVE_PATTERN = r"^(W:\d+|Z)$"  # W: close this wave, Z: cancel


@dataclass(frozen=True, slots=True)
class Press:
    """A decoded respondent button press."""

    action: Action
    wave: int
    index: int
    args: tuple[str, ...] = ()


def encode(action: Action, wave: int, index: int, *args: object) -> str:
    """The callback data of a press; `ValueError` when it would exceed 64 bytes."""
    data = ":".join([action.value, str(wave), str(index), *(str(a) for a in args)])
    if len(data.encode()) > MAX_CALLBACK:
        raise ValueError(f"callback data too long ({len(data)} bytes): {data}")
    return data


def payload(data: str) -> str:
    """The data without the session secret at its end (see `sign`)."""
    return data.partition(SECRET)[0]


def secret_of(data: str) -> bytes | None:
    """The session secret a button's data ends in; None if none (or malformed)."""
    _, sep, text = data.partition(SECRET)
    return keys.parse_secret(text) if sep else None


def signed(data: str, secret: bytes) -> str:
    """`data` with the session secret at its end, or as it is when that would not fit."""
    with_secret = f"{data}{SECRET}{keys.secret_text(secret)}"
    return with_secret if len(with_secret.encode()) <= MAX_CALLBACK else data


class SignedKeyboard(InlineKeyboardMarkup):
    """A shared keyboard whose buttons, as sent, end in one person's session secret.

    The buttons stay the shared ones (`render.render_step` memoises them for everyone);
    only the serialised form carries the secret. Building new button objects for every
    screen cost more than the rest of an answer's own work (bot_bench), so the shared
    keyboard's dict is made once (`_as_dict`) and the secret appended to its strings.
    """

    __slots__ = ("_base", "_suffix")

    def __init__(self, base: InlineKeyboardMarkup, secret: bytes) -> None:
        super().__init__(base.inline_keyboard)
        with self._unfrozen():
            self._base = base
            self._suffix = f"{SECRET}{keys.secret_text(secret)}"

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        shared = _as_dict(self._base)
        rows = [
            [_signed_button(button, self._suffix) for button in row]
            for row in shared["inline_keyboard"]
        ]
        return {**shared, "inline_keyboard": rows}


@functools.lru_cache(maxsize=4096)
def _as_dict(keyboard: InlineKeyboardMarkup) -> dict[str, Any]:
    """The shared keyboard serialised once (it is immutable; the callers copy what they change)."""
    return keyboard.to_dict()


def _signed_button(button: dict[str, Any], suffix: str) -> dict[str, Any]:
    data = button.get("callback_data")
    if not isinstance(data, str) or len((data + suffix).encode()) > MAX_CALLBACK:
        return button
    return {**button, "callback_data": data + suffix}


def sign(keyboard: InlineKeyboardMarkup, secret: bytes) -> InlineKeyboardMarkup:
    """The keyboard with every button carrying the session secret (no secret: as it is);
    a button whose data would then pass Telegram's 64 bytes stays as it is."""
    if not secret:
        return keyboard
    return SignedKeyboard(keyboard, secret)


def decode(data: str) -> Press | None:
    """Parse callback data; None for anything malformed (forged or from an old version)."""
    parts = payload(data).split(":")
    if len(parts) < 3:
        return None
    try:
        return Press(Action(parts[0]), int(parts[1]), int(parts[2]), tuple(parts[3:]))
    except ValueError:
        return None
