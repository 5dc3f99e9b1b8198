"""One page per partner organisation: its numbers beside the partnership's, no new secrets.

Two kinds of work, kept apart: `partnership_scores` computes the table a page needs that
the report has not got yet (from the shown cells only; the scores per role within an
organisation are `tables.org_role_scores`, decided with the group sizes); `page_of`
then picks one organisation's rows out of the report's suppressed tables, computing
nothing that a hidden answer could move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import stats
from .model import Report
from .tables import Frames, in_cells


def partnership_scores(frames: Frames, shown: pd.DataFrame) -> pd.DataFrame:
    """The partnership's mean per (wave, dimension) over the shown cells, with its interval.

    Hidden organisations stay out, or their mean would follow from this one and the
    shown organisations' means.
    """
    main = frames.main[in_cells(frames.main, shown, ["wave", "org", "dimension"])]
    return stats.describe(main, "score", ["wave", "dimension"])


@dataclass(frozen=True)
class PartnerPage:
    """One organisation's rows of one report's tables (empty frames where it has none)."""

    org: str
    counts: pd.DataFrame  # completed, headcount, rate
    scores: pd.DataFrame  # latest wave: its scores and the partnership's, per dimension
    given: pd.DataFrame  # trust it gives, target by target, with the reverse direction
    received: pd.DataFrame  # trust it receives, partner by partner
    pairs: pd.DataFrame  # reciprocity of its pairs (Welch, interval; `org` is itself)
    roles: pd.DataFrame  # its scores per role
    culture: pd.DataFrame  # its culture now/preferred against the other shown partners
    comments: pd.DataFrame  # its comments (already thresholded)
    shares: pd.DataFrame = field(default_factory=pd.DataFrame)  # latest: per option
    nps: pd.DataFrame = field(default_factory=pd.DataFrame)  # latest: its NPS per question

    @property
    def empty(self) -> bool:
        return all(
            frame.empty
            for frame in (self.scores, self.given, self.received, self.roles, self.culture)
        )


def page_of(report: Report, org: str) -> PartnerPage:
    """The rows of `report` that belong on `org`'s page (latest measurement)."""
    tables = report.tables
    latest = max(report.wave_names) if report.wave_names else None
    return PartnerPage(
        org=org,
        counts=_rows(tables.get("response_counts"), org),
        scores=_scores(tables, org, latest),
        given=_latest(_rows(tables.get("trust_matrix"), org), latest),
        received=_latest(_rows(tables.get("trust_matrix"), org, "target"), latest),
        pairs=_pairs(tables.get("reciprocity_tests"), org),
        roles=_rows(tables.get("org_role_scores"), org),
        culture=_culture(tables.get("culture_profiles"), org),
        comments=_rows(report.comments, org),
        shares=_latest(_rows(tables.get("answer_shares"), org), latest),
        nps=_latest(_rows(tables.get("nps"), org), latest),
    )


def _rows(table: pd.DataFrame | None, org: str, column: str = "org") -> pd.DataFrame:
    if table is None or table.empty or column not in table:
        return pd.DataFrame()
    return table[(table[column].astype(str) == org).to_numpy()].reset_index(drop=True)


def _latest(table: pd.DataFrame, wave: int | None) -> pd.DataFrame:
    if table.empty or wave is None or "wave" not in table:
        return table
    latest: pd.DataFrame = table[(table["wave"] == table["wave"].max()).to_numpy()]
    return latest.reset_index(drop=True)


def _scores(tables: dict[str, pd.DataFrame], org: str, wave: int | None) -> pd.DataFrame:
    """Its latest scores per dimension beside the partnership's (`all_*` columns)."""
    own = _latest(_rows(tables.get("dimension_scores"), org), wave)
    pooled = tables.get("partnership_scores")
    if own.empty or pooled is None or pooled.empty:
        return own
    pooled = pooled[(pooled["wave"] == own["wave"].iloc[0]).to_numpy()]
    pooled = pooled[["dimension", "n", "mean", "ci_low", "ci_high"]].astype({"dimension": str})
    pooled = pooled.add_prefix("all_").rename(columns={"all_dimension": "dimension"})
    return own.astype({"dimension": str}).merge(pooled, on="dimension", how="left")


def _pairs(table: pd.DataFrame | None, org: str) -> pd.DataFrame:
    """Its pairs, turned so that `org` is always the organisation itself."""
    if table is None or table.empty:
        return pd.DataFrame()
    first = table[(table["org"] == org).to_numpy()]
    second = table[(table["target"] == org).to_numpy()].rename(
        columns={
            "org": "target",
            "target": "org",
            "n_to": "n_from",
            "n_from": "n_to",
            "mean_to": "mean_from",
            "mean_from": "mean_to",
        }
    )
    second = second.assign(
        diff=-second["diff"], ci_low=-second["ci_high"], ci_high=-second["ci_low"], t=-second["t"]
    )
    if "g" in second:
        second = second.assign(g=-second["g"])
    return pd.concat([first, second[first.columns]], ignore_index=True)


def _culture(table: pd.DataFrame | None, org: str) -> pd.DataFrame:
    """Its now/preferred per type beside the mean of the other shown organisations."""
    if table is None or table.empty:
        return pd.DataFrame()
    latest = table[(table["wave"] == table["wave"].max()).to_numpy()]
    own = latest[(latest["org"].astype(str) == org).to_numpy()]
    if own.empty:
        return pd.DataFrame()
    others = latest[(latest["org"].astype(str) != org).to_numpy() & ~latest["hidden"]]
    mean = others.groupby("type", observed=True)[["now", "preferred"]].mean()
    mean = mean.add_prefix("others_").reset_index()
    own = own[["type", "now", "preferred", "gap", "hidden", "hidden_reason"]].astype({"type": str})
    merged: pd.DataFrame = own.merge(mean.astype({"type": str}), on="type", how="left")
    return merged
