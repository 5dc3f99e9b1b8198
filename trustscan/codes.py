"""Single-use codes for restricted roles: issued per (organisation, role), typed once,
used up when the response they started is completed.

Why. A restricted role (council, administrators) identifies few people. Whoever holds
its link could answer k − 1 times with k − 1 Telegram accounts and then read the one
real member's scores exactly (k · mean − the known sum): issue 17, finding 6. With
codes, each response of a restricted role needs a code the griffie handed to one
member; the store refuses a restricted role's start without a usable one (so no
adapter can forget the check), and a code completes one response only.

The codes are made once, here, for every channel: the chat (`bot.codes`) and, later,
the web form for people without Telegram.

    issue    `issue`: random codes, stored as keyed hashes (`Store.add_codes`), shown
             once (printed, or on a sheet of slips) and never again
    check    `check`: whether a typed code could start a response of (org, role) now
    bind     `begin`: start the response with the code; the draft holds the code's
             hash (inside its encryption) and the running store holds it in memory,
             so nobody else can start with it meanwhile
    use up   at the release of the response's batch (`surveys.store.release`): the hash
             is marked used together with those of k − 1 others; a group that never
             reaches k spends all its codes at the close, so "used" names nobody

A code is 16 characters from an alphabet without 0/O, 1/I/L (about 79 bits), printed in
groups of four and read back whatever the case and spacing (`normalise`). Guessing one
is hopeless, so a wrong code is simply asked again: no lock-out, and "unknown", "used"
and "someone else's" get one and the same answer, so trying tells nobody which exist.

What remains (say it plainly). After a restart the running store no longer knows which
draft holds which code, nor which waiting completion used which: until the release, such
a code could start (and once complete) one more response. It takes a restart inside the
batch window and someone holding the slip (docs/anonymity.md, "What it costs").

A minimum group size protects against outsiders, not against k − 1 members of a group
who pool their own answers: codes keep outsiders from posing as members, nothing more.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from surveys.errors import CodeRefusedError
from surveys.store import CodeToken, Session, Store

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: nothing to misread aloud
GROUP = 4
GROUPS = 4
LENGTH = GROUP * GROUPS
BITS = LENGTH * math.log2(len(ALPHABET))  # about 79
SEPARATORS = frozenset("-_.·–—/")  # besides white space, what people type between groups
MAX_COUNT = 1000  # codes per call: a council, a board, a whole department at most


@dataclass(frozen=True, slots=True)
class Issued:
    """Codes just issued for one (organisation, role), formatted for people to read."""

    org: str
    role: str
    codes: tuple[str, ...]


def new_code() -> str:
    """A fresh code (normalised: 16 symbols of `ALPHABET`, no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def formatted(code: str) -> str:
    """A normalised code as printed and read aloud: four groups of four ("KM7Q-X3RT-…")."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(typed: str) -> str | None:
    """The code someone typed, as issued; None if it cannot be one.

    Case, white space and the usual separators do not matter ("km7q x3rt-…" is fine).
    """
    compact = "".join(c for c in typed.upper() if not c.isspace() and c not in SEPARATORS)
    if len(compact) != LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


async def issue(store: Store, org: str, role: str, count: int) -> Issued:
    """`count` new codes of (org, role): stored as keyed hashes, returned once, formatted.

    The caller (`Operations.issue_codes`) validates the organisation, the role and the
    count, and audits the action without the codes.
    """
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_code())
    ordered = sorted(codes)  # no order of making survives either
    await store.add_codes(org, role, [store.code_token(c) for c in ordered])
    return Issued(org, role, tuple(formatted(c) for c in ordered))


def token(store: Store, typed: str) -> CodeToken | None:
    """What the store takes of a typed code (its keyed hash); None if it cannot be one."""
    code = normalise(typed)
    return store.code_token(code) if code is not None else None


async def check(store: Store, org: str, role: str, typed: str) -> bool:
    """Whether a response of (org, role) could start with the typed code now."""
    found = token(store, typed)
    return found is not None and await store.code_usable(found, org, role)


async def begin(
    store: Store, wave_id: int, user_id: int, org: str, role: str, lang: str, typed: str
) -> Session | None:
    """Start a restricted role's response with a typed code, binding the code to it.

    None when the code is refused (unknown, used, held by someone busy, or for another
    organisation or role); the reason is not told apart. Someone with a session in the
    wave already resumes it, and the code is left as it was.
    """
    found = token(store, typed)
    if found is None:
        return None
    try:
        return await store.begin(wave_id, user_id, org, role, lang, code=found)
    except CodeRefusedError:
        return None
