"""Answer values and their storage encoding.

An answer is a plain Python value whose shape depends on the question type:

| type     | answer                                   |
| -------- | ---------------------------------------- |
| likert   | int 1..points, or DONT_KNOW              |
| nps      | int 0..10, or DONT_KNOW                  |
| choice   | option value (str), or DONT_KNOW         |
| multi    | tuple of option values, in option order  |
| allocate | tuple of ints, one per option            |
| text     | str                                      |

The store keeps answers as generic rows `ItemRow(part, value, text)` so it needs no
survey knowledge; `encode`/`decode` translate between the two with the question at hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple, cast

from .model import Question


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
_UNKNOWN = ItemRow("", None, None)  # don't know: neither value nor text


def encode(question: Question, answer: Answer) -> list[ItemRow]:
    """Rows to store for `answer`; a don't-know is one row with neither value nor text."""
    if answer is DONT_KNOW:
        return [_UNKNOWN]
    match question.type:
        case "likert" | "nps":
            return [ItemRow("", int(answer), None)]  # type: ignore[arg-type]
        case "choice" | "text":
            return [ItemRow("", None, str(answer))]
        case "multi":
            # An empty selection (allowed when min = 0) still needs a row to count as answered.
            chosen = [ItemRow(value, 1, None) for value in cast(tuple[str, ...], answer)]
            return chosen or [ItemRow("", 0, None)]
        case "allocate":
            points = zip(question.options, cast(tuple[int, ...], answer), strict=True)
            return [ItemRow(o.value, int(p), None) for o, p in points]
    raise ValueError(f"question {question.id!r} of type {question.type!r} takes no answer")


def decode(question: Question, rows: Sequence[ItemRow]) -> Answer:
    """The answer the rows of one item stand for (inverse of `encode`)."""
    if len(rows) == 1 and rows[0] == _UNKNOWN:
        return DONT_KNOW
    match question.type:
        case "likert" | "nps":
            return int(rows[0].value)  # type: ignore[arg-type]
        case "choice" | "text":
            return str(rows[0].text)
        case "multi":
            chosen = {row.part for row in rows if row.part}
            return tuple(o.value for o in question.options if o.value in chosen)
        case "allocate":
            points = {row.part: row.value or 0 for row in rows}
            return tuple(int(points.get(o.value, 0)) for o in question.options)
    raise ValueError(f"question {question.id!r} of type {question.type!r} takes no answer")
