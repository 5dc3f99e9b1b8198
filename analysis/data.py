"""Load completed responses from the store into tidy pandas frames.

One row per stored answer part: `wave, org, role, response, item, target, value, choice`.
`target` is the partner organisation of per-partner items and the option of allocate
and multi items; `value` is numeric (NaN for don't know); `choice` holds the option of
choice questions. Responses are integer codes (0, 1, …), never the stored random ids.

The store packs each response's answers into strings inside SQLite. Respondents of one
group mostly answer the same items, so the item/target layout is decoded once per
distinct layout and the values of all responses in one vectorised parse: no Python
object is ever made per answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.store import Store, Wave

ANSWER_COLUMNS = ["wave", "org", "role", "response", "item", "target", "value", "choice"]
COMMENT_COLUMNS = ["wave", "org", "item", "target", "text"]
UNIT, RECORD = "\x1f", "\x1e"


class LoadError(ValueError):
    """The packed answers are inconsistent (a store bug, never the respondents' input)."""


@dataclass(frozen=True)
class WaveData:
    """Everything analysis needs about some waves: answers, comments, and the waves."""

    answers: pd.DataFrame
    comments: pd.DataFrame
    waves: tuple[Wave, ...]

    @property
    def closed(self) -> tuple[Wave, ...]:
        return tuple(w for w in self.waves if w.status == "closed")


async def load_waves(store: Store, wave_ids: Sequence[int]) -> WaveData:
    """Answers and comments of completed responses in the given waves."""
    waves = tuple([await store.wave(w) for w in wave_ids])
    answers = unpack(await store.packed_answers(list(wave_ids)))
    comments = pd.DataFrame.from_records(
        await store.comments(list(wave_ids)) if wave_ids else [], columns=COMMENT_COLUMNS
    )
    return WaveData(answers, comments, waves)


def unpack(rows: Sequence[tuple]) -> pd.DataFrame:
    """The tidy frame from `Store.packed_answers` rows (one per response)."""
    people = pd.DataFrame.from_records(
        rows, columns=["wave", "org", "role", "keys", "values", "choices"]
    )
    layouts, distinct = pd.factorize(people["keys"].fillna(""))
    items: dict[str, int] = {}
    targets: dict[str, int] = {}
    item_codes, target_codes = [], []
    for layout in distinct:
        pairs = [entry.split(UNIT) for entry in layout.split(RECORD)] if layout else []
        item_codes.append(np.array([items.setdefault(p[0], len(items)) for p in pairs], "int32"))
        target_codes.append(
            np.array([targets.setdefault(p[1], len(targets)) for p in pairs], "int32")
        )
    # categories in sorted order, not in the order the (randomly ordered) rows showed them:
    # the same answers always give the same frame categories and the same tables
    item_names, item_codes = _sorted(items, item_codes)
    target_names, target_codes = _sorted(targets, target_codes)
    sizes = np.array([len(c) for c in item_codes], dtype="int64")[layouts]
    text = ",".join(people["values"].dropna())
    values = np.fromstring(text, sep=",") if text else np.empty(0)  # text mode: C-speed parsing
    if len(values) != sizes.sum():
        raise LoadError(f"{len(values)} values for {sizes.sum()} answers")
    response = np.repeat(np.arange(len(people), dtype="int64"), sizes)
    frame = _assemble(
        people,
        response,
        pd.Categorical.from_codes(_concat(item_codes, layouts), item_names),
        pd.Categorical.from_codes(_concat(target_codes, layouts), target_names),
        values,
    )
    frame["choice"] = _choices(frame, people["choices"])
    return frame


def _sorted(
    codes: dict[str, int], per_layout: list[np.ndarray]
) -> tuple[list[str], list[np.ndarray]]:
    """The names in sorted order, and each layout's codes renumbered to match."""
    names = sorted(codes)
    rank = np.empty(len(names), dtype="int32")
    rank[[codes[name] for name in names]] = np.arange(len(names), dtype="int32")
    return names, [rank[c] for c in per_layout]


def _concat(per_layout: list[np.ndarray], layouts: np.ndarray) -> np.ndarray:
    if not len(layouts):
        return np.empty(0, dtype="int32")
    return np.concatenate([per_layout[i] for i in layouts])


def _assemble(
    people: pd.DataFrame,
    response: np.ndarray,
    item: pd.Categorical,
    target: pd.Categorical,
    values: np.ndarray,
) -> pd.DataFrame:
    """Group columns looked up per answer by integer position, kept categorical."""
    org = pd.Categorical(people["org"])
    role = pd.Categorical(people["role"].fillna(""))
    return pd.DataFrame(
        {
            "wave": people["wave"].to_numpy(dtype="int64")[response],
            "org": pd.Categorical.from_codes(org.codes[response], org.categories),
            "role": pd.Categorical.from_codes(role.codes[response], role.categories),
            "response": response,
            "item": item,
            "target": target,
            "value": values.astype("float64"),
        }
    )


def _choices(frame: pd.DataFrame, packed: pd.Series) -> pd.Categorical:
    """The chosen option on the rows of choice answers (a few per response)."""
    records = [
        (response, *entry.split(UNIT))
        for response, text in packed.dropna().items()
        for entry in text.split(RECORD)
    ]
    values = np.full(len(frame), None, dtype=object)
    if records:
        picked = pd.DataFrame.from_records(
            records, columns=["response", "item", "target", "choice"]
        )
        rows = np.flatnonzero(frame["item"].isin(picked["item"].unique()).to_numpy())
        candidates = frame.iloc[rows]
        index = pd.MultiIndex.from_arrays(
            [candidates[c].to_numpy().astype(object) for c in ("response", "item", "target")]
        )
        at = index.get_indexer(
            pd.MultiIndex.from_arrays([picked[c] for c in ("response", "item", "target")])
        )
        found = at >= 0
        values[rows[at[found]]] = picked["choice"].to_numpy()[found]
    return pd.Categorical(values)


def answers_frame(records: Iterable[tuple]) -> pd.DataFrame:
    """A tidy frame from plain `(wave, org, role, response, item, target, value)` records.

    For tests and small imports; the store's packed rows take `unpack`.
    """
    raw = pd.DataFrame.from_records(
        list(records), columns=["wave", "org", "role", "response", "item", "target", "value"]
    )
    responses, position = np.unique(raw["response"].to_numpy(dtype="int64"), return_inverse=True)
    people = raw.drop_duplicates("response").set_index("response").loc[responses]
    frame = _assemble(
        people.reset_index(drop=True),
        position,
        pd.Categorical(raw["item"]),
        pd.Categorical(raw["target"]),
        pd.to_numeric(raw["value"], errors="coerce").to_numpy(dtype="float64"),
    )
    frame["response"] = raw["response"].to_numpy(dtype="int64")
    frame["choice"] = pd.Categorical([None] * len(frame))
    return frame
