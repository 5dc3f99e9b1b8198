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

The store keeps answers as generic rows `(part, value, text)` so it needs no survey
knowledge; `encode`/`decode` translate between the two with the question at hand.
"""

from __future__ import annotations

from typing import Final

from .model import Question


class _DontKnow:
    """Sentinel for "don't know / not applicable": stored, but missing in analysis."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DONT_KNOW"

    def __reduce__(self) -> str:
        return "DONT_KNOW"


DONT_KNOW: Final = _DontKnow()

Answer = int | str | tuple[str, ...] | tuple[int, ...] | _DontKnow
Row = tuple[str, int | None, str | None]  # (part, value, text)


def encode(question: Question, answer: Answer) -> list[Row]:
    """Rows to store for `answer`; a don't-know is one row with neither value nor text."""
    if answer is DONT_KNOW:
        return [("", None, None)]
    match question.type:
        case "likert" | "nps":
            return [("", int(answer), None)]  # type: ignore[arg-type]
        case "choice" | "text":
            return [("", None, str(answer))]
        case "multi":
            # An empty selection (allowed when min = 0) still needs a row to count as answered.
            return [(value, 1, None) for value in answer] or [("", 0, None)]  # type: ignore[union-attr]
        case "allocate":
            return [(o.value, int(p), None) for o, p in zip(question.options, answer, strict=True)]  # type: ignore[arg-type]
    raise ValueError(f"question {question.id!r} of type {question.type!r} takes no answer")


def decode(question: Question, rows: list[Row]) -> Answer:
    """The answer the rows of one item stand for (inverse of `encode`)."""
    if len(rows) == 1 and rows[0] == ("", None, None):
        return DONT_KNOW
    match question.type:
        case "likert" | "nps":
            return int(rows[0][1])  # type: ignore[arg-type]
        case "choice" | "text":
            return str(rows[0][2])
        case "multi":
            chosen = {part for part, _, _ in rows if part}
            return tuple(o.value for o in question.options if o.value in chosen)
        case "allocate":
            points = {part: value or 0 for part, value, _ in rows}
            return tuple(int(points.get(o.value, 0)) for o in question.options)
    raise ValueError(f"question {question.id!r} of type {question.type!r} takes no answer")
