"""Oversubscription: more completed responses than there are people in the group.

A group link is shared, not personal, so nothing stops it travelling beyond its group.
When an organisation (or one of its roles) has more completed responses than its
configured headcount, some answers cannot be from the people they claim to be from:
facilitators see a warning in `/waves` and `trustscan wave list`, and the report's
methods section can list the groups from `oversubscribed`.

Organisation totals are shown live anyway; a role's flag appears only once its wave is
closed, or a new flag would tell facilitators the role of whoever just finished.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from surveys.store import GroupCount, Store, Wave

from .config import Organisation

GroupKey = tuple[int, str, str | None]  # (wave, org, role)


@dataclass(frozen=True, slots=True)
class Oversubscribed:
    """A group with more completed responses than people.

    `role` is None for the organisation as a whole. `completed` may be below the
    minimum group size: show it only where a count of that group may be shown.
    """

    wave: int
    org: str
    role: str | None
    completed: int
    headcount: int


def count_completed(rows: Iterable[GroupCount]) -> Counter[GroupKey]:
    """Completed responses per (wave, org, role) from `Store.completed_counts` rows."""
    return Counter({(row.wave, row.org, row.role): row.completed for row in rows})


def oversubscribed(
    organisations: Sequence[Organisation],
    completed: Mapping[GroupKey, int],
    closed: Collection[int] | None = None,
) -> list[Oversubscribed]:
    """The groups whose completed responses exceed their configured headcount.

    Pure: `completed` maps (wave, org, role) to completed responses (e.g. from
    `count_completed`); an organisation's total is the sum over its roles. Ordered by
    wave, then organisation in config order, the organisation as a whole before its
    roles, roles in the order of `role_headcounts`. Role flags only for waves in
    `closed` (all waves when None).
    """
    totals: Counter[tuple[int, str]] = Counter()
    for (wave, org_id, _), n in completed.items():
        totals[(wave, org_id)] += n
    flagged = []
    for wave in sorted({w for w, _ in totals}):
        for org in organisations:
            total = totals.get((wave, org.id), 0)
            if org.headcount is not None and total > org.headcount:
                flagged.append(Oversubscribed(wave, org.id, None, total, org.headcount))
            if closed is not None and wave not in closed:
                continue
            for role, headcount in org.role_headcounts:
                n = completed.get((wave, org.id, role), 0)
                if n > headcount:
                    flagged.append(Oversubscribed(wave, org.id, role, n, headcount))
    return flagged


async def oversubscribed_groups(
    store: Store, organisations: Sequence[Organisation], waves: Sequence[Wave]
) -> list[Oversubscribed]:
    """`oversubscribed` for the given waves, counted from the store."""
    if not waves or not any(o.headcount or o.role_headcounts for o in organisations):
        return []
    counts = count_completed(await store.completed_counts([w.id for w in waves]))
    return oversubscribed(organisations, counts, {w.id for w in waves if w.status == "closed"})
