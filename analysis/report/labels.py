"""Which reason a hidden cell may print: "fewer than k", "hidden to protect a smaller
group", or only "hidden" (issue 18).

Every suppressed table carries `hidden_reason` (`suppression.with_reasons`): whether a
hidden cell holds fewer than k or k and more. Printed, that is a fact about a count: a
"protect" label says the cell holds at least k, a "fewer than k" label at most k − 1.
Beside a published total those bounds can pin a hidden count (12 people, 6 staff shown,
managers "to protect", so at least 5: the council holds at most 1). So:

* where a breakdown's total is published (the respondents per organisation, split by
  role in `group_sizes`; an organisation's score n, split by role in `org_role_scores`)
  the reason is withheld (`WITHHELD`): the cell reads "hidden", nothing more. Decided by
  the table alone, never by the counts, so whether a reason shows says nothing either;
* everywhere else the reason is printed, and `check` proves it with the derivability
  audit: the labels are stated as facts (`published._count`) and no hidden count may
  follow from them together with everything else the report publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.i18n import t

from .. import suppression
from ..derivability import Exposure, exposed
from .model import Report

# tables whose breakdowns add up to a published total: a reason there narrows a hidden count
TOTALLED = ("group_sizes", "org_role_scores")


def withhold(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every hidden row's reason withheld."""
    if "hidden_reason" not in table:
        return table
    hidden = table["hidden"].to_numpy(dtype=bool)
    reasons = table["hidden_reason"].where(~hidden, suppression.WITHHELD)
    return table.assign(hidden_reason=reasons)


def settle(report: Report) -> None:
    """Withhold the reasons of the tables whose breakdowns have a published total."""
    for name in TOTALLED:
        if name in report.tables:
            report.tables[name] = withhold(report.tables[name])


def check(reports: Sequence[Report], k: int) -> list[Exposure]:
    """The hidden counts the published figures, labels included, narrow to one value."""
    from .published import facts  # published reads the tables module, as labels does not

    return exposed(facts(reports, k))


# the tables whose rows are cells a reader sees hidden, and the columns naming one cell
CELLS = {
    "dimension_scores": ["wave", "org", "dimension"],
    "org_role_scores": ["wave", "org", "role", "dimension"],
    "role_scores": ["wave", "role", "dimension"],
    "group_sizes": ["wave", "org", "role"],
    "trust_matrix": ["wave", "org", "target"],
    "matrices": ["wave", "dimension", "org", "target"],
    "familiarity": ["wave", "org", "target"],
    "culture_profiles": ["wave", "org"],
    "item_distribution": ["item"],
    "answer_shares": ["wave", "org", "question"],
    "nps": ["wave", "org", "question"],
    "mean_rank": ["wave", "org", "question"],
}


@dataclass(frozen=True)
class Hidden:
    """How many cells a report shows and hides, by the reason each hidden one prints."""

    cells: int
    small: int
    protect: int
    withheld: int

    @property
    def hidden(self) -> int:
        return self.small + self.protect + self.withheld


def count(report: Report) -> Hidden:
    """The cells of every table a reader sees (`CELLS`), hidden ones by printed reason."""
    cells = small = protect = withheld = 0
    for name, keys in CELLS.items():
        table = report.tables.get(name)
        if table is None or table.empty or "hidden" not in table:
            continue
        one = table.drop_duplicates([k for k in keys if k in table])
        cells += len(one)
        hidden = one["hidden"].to_numpy(dtype=bool)
        reasons = one.get("hidden_reason", suppression.WITHHELD)
        why = pd.Series(np.where(hidden, reasons, ""))
        small += int((why == suppression.SMALL).sum())
        protect += int((why == suppression.PROTECT).sum())
        withheld += int((why == suppression.WITHHELD).sum())
    return Hidden(cells, small, protect, withheld)


def methods(report: Report, k: int, lang: str) -> str:
    """The methods' sentence: how many cells this report hides, and why."""
    found = count(report)
    return t(
        "report.hidden_cells",
        lang,
        hidden=found.hidden,
        cells=found.cells,
        small=found.small,
        protect=found.protect,
        withheld=found.withheld,
        k=k,
    )
