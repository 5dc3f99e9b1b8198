"""Answer values and their storage encoding.

An answer is a plain Python value whose shape depends on the question type (an int, an
option value, a tuple of option values or of ints per option, a text, or DONT_KNOW);
each type in `surveys.qtypes` validates its own shape.

The store keeps answers as generic rows `ItemRow(part, value, text)` so it needs no
survey knowledge; `qtypes.encode`/`qtypes.decode` translate between the two with the
question at hand, each type encoding its own answers.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class ItemRow(NamedTuple):
    """One stored part of an item's answer: what the store keeps, knowing no survey.

    Defined here, beside the encoding, so the pure engine needs nothing of the store;
    `surveys.store` re-exports it.
    """

    part: str  # '' for a single-row answer; the option of multi and allocate parts
    value: int | None
    text: str | None


class _DontKnow:
    """Sentinel for "don't know / not applicable": stored, but missing in analysis."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DONT_KNOW"

    def __reduce__(self) -> str:
        return "DONT_KNOW"


DONT_KNOW: Final = _DontKnow()

Answer = int | str | tuple[str, ...] | tuple[int, ...] | _DontKnow
