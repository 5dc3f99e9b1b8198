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

import pandas as pd

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
