"""What analysis reads: completed answers as typed columns, and the unlinked comments.

Analysis gets `AnswerColumns`, never rows of SQL: the packing below (how SQLite joins a
response's answers into strings, which separators, which field order) is private to
this module and may change without analysis noticing.

Why pack at all: the fetch costs one Python row per response instead of one per answer
(millions at scale). Respondents of one group mostly answer the same items, so each
distinct item layout is decoded once, the values of all responses are parsed in one
call, and every per-answer column is built by joining per-layout byte strings: no
Python object is made per answer. The columns are stdlib `array`s, so a consumer with
numpy wraps them without a copy (`numpy.frombuffer`); `surveys` itself needs no numpy.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from ..errors import StoreError
from .base import Database
from .rows import Comment, CompletedResponse

UNIT, RECORD = "\x1f", "\x1e"  # ids, targets and options never contain control characters

# One row per completed response: wave, org, role, then
#   keys     one `question UNIT key` per answer, joined by RECORD, where `key` is the
#            part of multi/allocate answers and the target otherwise;
#   values   the matching numbers joined by ',' (`NaN` for none), a JSON array body;
#   choices  the few `question UNIT target UNIT text` of answers that hold text.
# The aggregates of one group see its rows in the same order, so the n-th key and the
# n-th value belong together (`_values` checks that the counts agree). Rows come in the
# order of the random response ids; the ids never leave SQLite.
PACKED = (
    "SELECT r.wave, r.org, r.role, "
    "group_concat(a.question || char(31) || "
    "CASE a.part WHEN '' THEN a.target ELSE a.part END, char(30)), "
    # a response without answer rows still meets one (empty) joined row: no value for it
    "group_concat(CASE WHEN a.response IS NOT NULL THEN ifnull(a.value, 'NaN') END, ','), "
    "group_concat(CASE WHEN a.text IS NOT NULL THEN "
    "a.question || char(31) || a.target || char(31) || a.text END, char(30)) "
    "FROM responses r LEFT JOIN answers a ON a.response = r.id "
    # '+' keeps SQLite on the primary key: rows arrive grouped, no sort needed
    "WHERE r.complete = 1 AND +r.wave IN ({marks}) GROUP BY r.id"
)


@dataclass(frozen=True, slots=True)
class Coded:
    """A column of strings as `int32` codes into `names`, which are sorted; -1 is none.

    Sorted, not in the order the (randomly ordered) rows showed them: the same answers
    always give the same codes, so analysis makes the same categories and tables.
    """

    codes: array[int]  # typecode 'i'
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: int) -> str | None:
        code = self.codes[index]
        return None if code < 0 else self.names[code]


@dataclass(frozen=True, slots=True)
class AnswerColumns:
    """Completed answers of some waves, column by column.

    Per response (numbered 0 … `responses` - 1, in random order): `wave`, `org`,
    `role` (-1: none). The answers of response `i` are entries `offsets[i]` up to
    `offsets[i + 1]` of the per-answer columns (Arrow's list layout): `item` (question
    id), `target` (the partner organisation of per-partner items, the option of
    allocate and multi parts, else ''), `value` (float, NaN for don't know) and
    `choice` (the stored text of choice answers, -1 elsewhere).
    """

    wave: array[int]  # 'q', per response
    org: Coded
    role: Coded
    offsets: array[int]  # 'q', responses + 1
    item: Coded
    target: Coded
    value: array[float]  # 'd', per answer
    choice: Coded

    @property
    def responses(self) -> int:
        return len(self.wave)

    def __len__(self) -> int:
        return len(self.value)

    def response(self, i: int) -> CompletedResponse:
        """Who gave response `i`, and how many answer parts it holds."""
        return CompletedResponse(
            self.wave[i], self.org[i] or "", self.role[i], self.offsets[i + 1] - self.offsets[i]
        )


class Reads:
    def __init__(self, base: Database) -> None:
        self._base = base

    async def answer_columns(self, wave_ids: Sequence[int]) -> AnswerColumns:
        """The completed answers of these waves (see `AnswerColumns`)."""
        rows: Iterable[Any] = ()
        if wave_ids:
            rows = await self._base.reader.execute_fetchall(
                PACKED.format(marks=",".join("?" * len(wave_ids))), list(wave_ids)
            )
        return _decode(list(rows))

    async def comments(self, wave_ids: Sequence[int]) -> list[Comment]:
        """Free-text answers, in the random order `shuffle_comments` left them in."""
        if not wave_ids:
            return []
        marks = ",".join("?" * len(wave_ids))
        rows = await self._base.read(
            f"SELECT wave, org, question, target, text FROM comments WHERE wave IN ({marks})",
            list(wave_ids),
        )
        return [Comment(*r) for r in rows]


class _Codes(dict[str, int]):
    """Names in order of first sight, coded later in sorted order (`sorted_codes`)."""

    def code(self, name: str) -> int:
        return self.setdefault(name, len(self))

    def rank(self) -> tuple[tuple[str, ...], list[int]]:
        """The sorted names, and each first-sight code's sorted code."""
        names = tuple(sorted(self))
        rank = [0] * len(names)
        for sorted_code, name in enumerate(names):
            rank[self[name]] = sorted_code
        return names, rank


def _coded(first_sight: list[int], codes: _Codes) -> Coded:
    names, rank = codes.rank()
    return Coded(array("i", [rank[c] if c >= 0 else -1 for c in first_sight]), names)


def _decode(rows: list[tuple[Any, ...]]) -> AnswerColumns:
    """Columns from the packed rows: per layout once, then joined byte strings."""
    orgs, roles, layouts = _Codes(), _Codes(), _Codes()
    wave, org, role, layout = array("q"), [], [], []
    for w, o, r, keys, _, _ in rows:
        wave.append(w)
        org.append(orgs.code(o))
        role.append(-1 if r is None else roles.code(r))
        layout.append(layouts.code(keys or ""))
    items, targets = _Codes(), _Codes()
    entries = [[e.split(UNIT) for e in text.split(RECORD)] if text else [] for text in layouts]
    item_codes = [[items.code(e[0]) for e in layout_entries] for layout_entries in entries]
    target_codes = [[targets.code(e[1]) for e in layout_entries] for layout_entries in entries]
    sizes = [len(layout_entries) for layout_entries in entries]
    offsets = array("q", accumulate((sizes[i] for i in layout), initial=0))
    item_names, item_rank = items.rank()
    target_names, target_rank = targets.rank()
    item_bytes = [array("i", [item_rank[c] for c in codes]).tobytes() for codes in item_codes]
    target_bytes = [array("i", [target_rank[c] for c in codes]).tobytes() for codes in target_codes]
    item, target = array("i"), array("i")
    item.frombytes(b"".join([item_bytes[i] for i in layout]))
    target.frombytes(b"".join([target_bytes[i] for i in layout]))
    return AnswerColumns(
        wave=wave,
        org=_coded(org, orgs),
        role=_coded(role, roles),
        offsets=offsets,
        item=Coded(item, item_names),
        target=Coded(target, target_names),
        value=_values([values for *_, values, _ in rows], offsets[-1]),
        choice=_choices(rows, layout, list(layouts), offsets),
    )


def _values(packed: list[str | None], count: int) -> array[float]:
    """All values in one parse; a JSON array body, so the C parser reads it."""
    text = ",".join([v for v in packed if v])
    values = array("d", json.loads(f"[{text}]"))
    if len(values) != count:
        raise StoreError(f"{len(values)} values for {count} answers (a store bug)")
    return values


def _choices(
    rows: list[tuple[Any, ...]], layout: list[int], layouts: list[str], offsets: array[int]
) -> Coded:
    """The text of the few answers that hold one, placed on their answer's entry."""
    texts = _Codes()
    where: list[int] = []
    which: list[int] = []
    positions: dict[int, dict[str, int]] = {}
    for i, (*_, packed) in enumerate(rows):
        if not packed:
            continue
        at = positions.get(layout[i])
        if at is None:
            keys = layouts[layout[i]]
            at = positions[layout[i]] = {k: n for n, k in enumerate(keys.split(RECORD))}
        for entry in packed.split(RECORD):
            question, _, rest = entry.partition(UNIT)
            target, _, text = rest.partition(UNIT)
            n = at.get(question + UNIT + target)
            if n is not None:
                where.append(offsets[i] + n)
                which.append(texts.code(text))
    names, rank = texts.rank()
    codes = array("i", [-1]) * offsets[-1]
    for position, code in zip(where, which, strict=True):
        codes[position] = rank[code]
    return Coded(codes, names)
