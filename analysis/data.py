"""Load completed responses from the store into tidy pandas frames.

One row per stored answer part: `wave, org, role, response, item, target, value, choice`.
`target` is the partner organisation of per-partner items and the option of allocate
and multi items; `value` is numeric (NaN for don't know); `choice` holds the option of
choice questions. Responses are integer codes, never the stored random ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.store import Store, Wave

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
    people, rows, choices = await store.answer_table(list(wave_ids)) if wave_ids else ([], [], [])
    answers = coded_frame(people, rows, choices) if rows else empty_answers()
    comments = pd.DataFrame.from_records(
        await store.comments(list(wave_ids)) if wave_ids else [], columns=COMMENT_COLUMNS
    )
    return WaveData(answers, comments, waves)


def coded_frame(
    responses: Sequence[tuple], rows: Sequence[tuple], choices: Sequence[tuple] = ()
) -> pd.DataFrame:
    """Tidy frame from integer-coded rows: the group columns are looked up per response."""
    people = pd.DataFrame.from_records(responses, columns=["code", "wave", "org", "role"])
    people = people.set_index("code").sort_index()
    raw = pd.DataFrame.from_records(rows, columns=["code", "item", "target", "value"])
    position = people.index.get_indexer(raw["code"])
    frame = pd.DataFrame(
        {
            "wave": people["wave"].to_numpy()[position].astype("int64"),
            "org": pd.Categorical(people["org"].to_numpy()[position]),
            "role": pd.Categorical(people["role"].fillna("").to_numpy()[position]),
            "response": raw["code"].to_numpy(dtype="int64"),
            "item": pd.Categorical(raw["item"]),
            "target": pd.Categorical(raw["target"]),
            "value": pd.to_numeric(raw["value"], errors="coerce").astype("float64"),
        }
    )
    picked = pd.DataFrame.from_records(choices, columns=["response", "item", "target", "choice"])
    if picked.empty:
        frame["choice"] = pd.Categorical([None] * len(frame))
        return frame
    keys = ["response", "item", "target"]
    lookup = picked.set_index(keys)["choice"]
    rows_with_choice = frame["item"].isin(picked["item"].unique()).to_numpy()
    sub = frame.loc[rows_with_choice, keys].astype({"item": object, "target": object})
    values = np.full(len(frame), None, dtype=object)
    values[rows_with_choice] = lookup.reindex(pd.MultiIndex.from_frame(sub)).to_numpy()
    frame["choice"] = pd.Categorical(values)
    return frame


def empty_answers() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ANSWER_COLUMNS})
    frame["wave"] = frame["wave"].astype("int64")
    frame["response"] = frame["response"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    return frame
