"""Load completed responses from the store into tidy pandas frames.

One row per stored answer part: `wave, org, role, response, item, target, value, choice`.
`target` is the partner organisation of per-partner items and the option of allocate
and multi items; `value` is numeric (NaN for don't know); `choice` holds the option of
choice questions. Responses are integer codes (0, 1, …), never the stored random ids.

The store hands over `AnswerColumns` (typed columns of integer codes and floats); this
module only wraps them in numpy without copying and builds categoricals from the
codes, so no Python object is ever made per answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.store import AnswerColumns, Coded, Store, Wave

ANSWER_COLUMNS = ["wave", "org", "role", "response", "item", "target", "value", "choice"]
COMMENT_COLUMNS = ["wave", "org", "item", "target", "text"]


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
    answers = columns_frame(await store.answer_columns(list(wave_ids)))
    comments = pd.DataFrame.from_records(
        await store.comments(list(wave_ids)) if wave_ids else [], columns=COMMENT_COLUMNS
    )
    return WaveData(answers, comments, waves)


def columns_frame(columns: AnswerColumns) -> pd.DataFrame:
    """The tidy frame of the store's answer columns (one row per answer part)."""
    offsets = np.frombuffer(columns.offsets, dtype=np.int64)
    sizes = offsets[1:] - offsets[:-1]
    response = np.repeat(np.arange(columns.responses, dtype="int64"), sizes)
    frame = pd.DataFrame(
        {
            "wave": np.frombuffer(columns.wave, dtype=np.int64)[response],
            "org": _categorical(columns.org, response),
            "role": _categorical(columns.role, response, missing=""),
            "response": response,
            "item": _categorical(columns.item),
            "target": _categorical(columns.target),
            "value": np.frombuffer(columns.value, dtype=np.float64).copy(),  # writable
        }
    )
    frame["choice"] = _categorical(columns.choice)
    return frame


def _categorical(
    column: Coded, take: np.ndarray | None = None, missing: str | None = None
) -> pd.Categorical[str]:
    """A categorical from the store's codes (sorted names), picked by `take` if given.

    `missing` names what the store leaves empty (a response without a role): it joins
    the sorted categories, as `fillna` before `pd.Categorical` would have it.
    """
    codes = np.frombuffer(column.codes, dtype=np.int32)
    codes = codes.copy() if take is None else codes[take]  # never a view of the store's
    names = list(column.names)
    if missing is not None and len(codes) and codes.min() < 0:
        if missing in names:
            at = names.index(missing)
        else:
            at = int(np.searchsorted(np.array(names, dtype=object), missing))
            names.insert(at, missing)
            codes = np.where(codes >= at, codes + 1, codes)
        codes = np.where(codes < 0, at, codes).astype(np.int32)
    return pd.Categorical.from_codes(codes, pd.Index(names))


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


def answers_frame(records: Iterable[tuple[object, ...]]) -> pd.DataFrame:
    """A tidy frame from plain `(wave, org, role, response, item, target, value)` records.

    For tests and small imports; the store's answers take `columns_frame`.
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
