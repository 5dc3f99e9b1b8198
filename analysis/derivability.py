"""Can a hidden count be worked out from what is published together? (DESIGN §4.13)

A report publishes many counts at once: respondents per organisation, per role, per
dimension, per question, totals over organisations, and shares, means and intervals
that each rest on a count. A count the report leaves out (a hidden cell, or an n left
blank) must not follow from the others by arithmetic: totals minus parts, shares × n,
a mean of whole numbers times n, an interval's width, margins across tables. Statistics
offices call this an audit of the suppression pattern; this module is that audit.

The published material is described as `Facts` about integer counts (`Cell`s):

* `Shown`: a count printed as such (`public`: one the design publishes anyway, such as
  the completed responses per organisation); `Hidden`: a count the report leaves out
  (a hidden row, or an n left blank), the secrets;
* `Bounds`: what a row's presence or its label says (a row exists: at least 1; "fewer
  than k": at most k − 1; "hidden to protect a smaller group": at least k);
* `Sum` and `AtMost`: how counts relate (the roles of an organisation add up to it; the
  respondents who answered a question are at most those of their organisation);
* `Shares`, `Mean` and `Interval`: figures printed about a count's group that only some
  counts can produce (11.1 / 55.6 / 33.3 % only come from 9, 18, 27, … people).

`exposed` solves for every secret and returns those the figures pin to fewer than
`fewer_than` values (default 2: to one value) where the public facts alone (public
counts, row presence, labels and the relations) leave more. Pinned by the public facts
alone is not a leak of the report: an organisation of one published respondent has one
respondent in each of its rows. The default is one value because a hidden cell's own
label already leaves only k − 1 ("n < 5": 1 to 4), and two hidden cells that together
hold k (what complementary suppression promises) leave each of them k − 1 values too;
`fewer_than=k` asks more, and the demo report meets it.

What it proves: every cell it returns really is determined (or narrowed as reported):
each value it rules out is ruled out by the facts (bounds propagation over the sums,
filtering by the shares, means and intervals, then probing each remaining value of a
hidden cell and propagating again). What it does not prove: that a cell it does not
return cannot be pinned by a longer chain of reasoning than probing one cell at a time
finds (integer linear feasibility is NP-hard in general). `contradiction` names where
the facts contradict each other: a description of a report that does not fit the
report itself (a pooled table that pools more than it says), which a test must treat
as a failure too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from scipy import special

Cell = tuple[object, ...]  # a count's name, e.g. ("evaluation", "people", 9, "veenstede")

PROBE_LIMIT = 400  # values of one cell enumerated by the filters and the probe
TOLERANCE = 1e-9  # relative: a figure printed at full precision


@dataclass(frozen=True, slots=True)
class Shown:
    """A count printed as it is; `public`: the design publishes it whatever the report."""

    cell: Cell
    value: int
    public: bool = False


@dataclass(frozen=True, slots=True)
class Hidden:
    """A count the report leaves out (a hidden cell, or an n left blank): a secret."""

    cell: Cell


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the report says without printing the count: a row exists, a label's range."""

    cell: Cell
    low: int = 0
    high: int | None = None


@dataclass(frozen=True, slots=True)
class Sum:
    """`total` is the sum of `parts` (the parts partition the total's people)."""

    total: Cell
    parts: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class AtMost:
    """`part` counts some of the people `whole` counts."""

    part: Cell
    whole: Cell


@dataclass(frozen=True, slots=True)
class Shares:
    """Percentages of the count's group: each is 100·c / (per·n) for a whole c ≤ per·n.

    `places`: the decimals printed (None: as computed, full precision); `per`: the rows
    each person contributes to the denominator (1: one answer each).
    """

    cell: Cell
    shares: tuple[float, ...]
    places: int | None = None
    per: int = 1

    def allows(self, n: int) -> bool:
        rows = n * self.per
        if rows <= 0:
            return all(s != s for s in self.shares)
        for share in self.shares:
            if share != share:
                continue
            count = round(share * rows / 100)
            if not 0 <= count <= rows or not _close(100 * count / rows, share, self.places):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Mean:
    """A mean of `n` values that are whole multiples of `step` (answers on a scale, ranks)."""

    cell: Cell
    mean: float
    places: int | None = None
    step: float = 1.0

    def allows(self, n: int) -> bool:
        if n <= 0 or self.mean != self.mean:
            return n > 0 or self.mean != self.mean
        units = round(self.mean * n / self.step)
        return _close(units * self.step / n, self.mean, self.places)


@dataclass(frozen=True, slots=True)
class Interval:
    """A t-based confidence interval of `n` values: half its width is t(n − 1)·sd/√n."""

    cell: Cell
    sd: float
    low: float
    high: float
    places: int | None = None
    confidence: float = 0.95

    def allows(self, n: int) -> bool:
        if self.sd != self.sd or self.low != self.low or self.sd == 0:
            return True  # no spread: the width says nothing about n
        if n < 2:
            return False
        t = float(special.stdtrit(n - 1, 0.5 + self.confidence / 2))
        half = t * self.sd / math.sqrt(n)
        return _close(half, (self.high - self.low) / 2, self.places)


Filter = Shares | Mean | Interval
Fact = Shown | Hidden | Bounds | Sum | AtMost | Filter


def _close(value: float, printed: float, places: int | None) -> bool:
    if places is None:
        return abs(value - printed) <= TOLERANCE * max(1.0, abs(printed))
    return abs(value - printed) <= 0.5 * 10.0**-places + TOLERANCE * max(1.0, abs(printed))


@dataclass(frozen=True, slots=True)
class Exposure:
    """A count not printed that the published figures narrow to `values`."""

    cell: Cell
    values: tuple[int, ...]  # what is left (at most `fewer_than` − 1 of them)
    public: int  # how many values the public facts alone leave (capped)


@dataclass
class _Domain:
    low: int = 0
    high: int | None = None
    filters: list[Callable[[int], bool]] = field(default_factory=list)

    def copy(self) -> _Domain:
        return _Domain(self.low, self.high, self.filters)

    def allows(self, n: int) -> bool:
        return all(f(n) for f in self.filters)

    @property
    def empty(self) -> bool:
        return self.high is not None and self.low > self.high


@dataclass(frozen=True)
class Facts:
    """Everything published together, as facts about counts."""

    facts: tuple[Fact, ...]

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> Facts:
        return cls(tuple(facts))

    def __add__(self, other: Facts) -> Facts:
        return Facts(self.facts + other.facts)

    @property
    def cells(self) -> list[Cell]:
        """Every cell named, in first-mention order."""
        seen: dict[Cell, None] = {}
        for fact in self.facts:
            for cell in _cells_of(fact):
                seen.setdefault(cell, None)
        return list(seen)

    @property
    def secret(self) -> list[Cell]:
        """The cells the report leaves out, in first-mention order."""
        return list(dict.fromkeys(f.cell for f in self.facts if isinstance(f, Hidden)))

    def public(self) -> Facts:
        """The facts a reader has without the report's figures: public counts, row
        presence, labels and the relations between counts."""
        return Facts(
            tuple(
                f
                for f in self.facts
                if isinstance(f, Bounds | Sum | AtMost) or (isinstance(f, Shown) and f.public)
            )
        )


def _cells_of(fact: Fact) -> tuple[Cell, ...]:
    if isinstance(fact, Sum):
        return (fact.total, *fact.parts)
    if isinstance(fact, AtMost):
        return (fact.part, fact.whole)
    return (fact.cell,)


class _System:
    """Domains of every cell under a set of facts, propagated to a fixed point."""

    def __init__(self, facts: Facts) -> None:
        self.domains: dict[Cell, _Domain] = {cell: _Domain() for cell in facts.cells}
        self.relations: list[Sum | AtMost] = []
        self.broken = ""  # what the last failed propagation broke on
        self.watch: dict[Cell, list[int]] = {cell: [] for cell in self.domains}
        for fact in facts.facts:
            if isinstance(fact, Shown):
                self._tighten(fact.cell, fact.value, fact.value)
            elif isinstance(fact, Hidden):
                continue
            elif isinstance(fact, Bounds):
                self._tighten(fact.cell, fact.low, fact.high)
            elif isinstance(fact, Sum | AtMost):
                for cell in _cells_of(fact):
                    self.watch[cell].append(len(self.relations))
                self.relations.append(fact)
            else:
                self.domains[fact.cell].filters.append(fact.allows)

    def _tighten(self, cell: Cell, low: int, high: int | None) -> None:
        domain = self.domains[cell]
        domain.low = max(domain.low, low)
        if high is not None:
            domain.high = high if domain.high is None else min(domain.high, high)

    def propagate(self, domains: dict[Cell, _Domain], start: Iterable[Cell]) -> bool:
        """Narrow `domains` in place from the cells in `start`; False if one empties."""
        queue = list(dict.fromkeys(start))
        for cell in queue:  # snap every starting cell to values its filters allow
            if not _snap(domains[cell]):
                self.broken = f"the facts of {cell}"
                return False
        pending = sorted({i for cell in queue for i in self.watch[cell]})
        waiting = set(pending)
        while pending:
            index = pending.pop()
            waiting.discard(index)
            changed = _apply(self.relations[index], domains)
            if changed is None:
                self.broken = repr(self.relations[index])
                return False
            for cell in changed:
                for other in self.watch[cell]:
                    if other not in waiting:
                        waiting.add(other)
                        pending.append(other)
        return True

    def solve(self) -> dict[Cell, _Domain] | None:
        domains = {cell: d.copy() for cell, d in self.domains.items()}
        return domains if self.propagate(domains, list(domains)) else None

    def survivors(self, domains: dict[Cell, _Domain], cell: Cell, enough: int) -> list[int]:
        """Values of `cell` that survive probing, at most `enough` of them (then it stops)."""
        domain = domains[cell]
        if domain.high is None or domain.high - domain.low > PROBE_LIMIT:
            return list(range(enough))  # wide open: as many as asked
        found: list[int] = []
        for value in _ends_first(domain.low, domain.high):
            if not domain.allows(value):
                continue
            trial = _Overlay(domains)
            trial[cell].low = trial[cell].high = value
            if self.propagate(trial, [cell]):
                found.append(value)
                if len(found) >= enough:
                    break
        return sorted(found)


class _Overlay(dict[Cell, _Domain]):
    """A trial's domains: each copied from the solved ones on first use, the rest shared."""

    def __init__(self, base: dict[Cell, _Domain]) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, cell: Cell) -> _Domain:
        domain = self[cell] = self.base[cell].copy()
        return domain


def _ends_first(low: int, high: int) -> list[int]:
    """low, high, low + 1, high − 1, …: two surviving values are usually found at once."""
    order, a, b = [], low, high
    while a <= b:
        order.append(a)
        if b != a:
            order.append(b)
        a, b = a + 1, b - 1
    return order


def _snap(domain: _Domain) -> bool:
    """Move the bounds of `domain` to values its filters allow; False if none is left."""
    if not domain.filters:
        return not domain.empty
    steps = 0
    while (domain.high is None or domain.low <= domain.high) and not domain.allows(domain.low):
        domain.low += 1
        steps += 1
        if steps > PROBE_LIMIT:
            break  # a filter that rarely allows: leave the rest to the probe
    if domain.high is not None:
        steps = 0
        while domain.low <= domain.high and not domain.allows(domain.high):
            domain.high -= 1
            steps += 1
            if steps > PROBE_LIMIT:
                break
    return not domain.empty


def _apply(relation: Sum | AtMost, domains: dict[Cell, _Domain]) -> list[Cell] | None:
    """Bounds propagation of one relation: the cells it narrowed, or None if one emptied."""
    changed: list[Cell] = []

    def narrow(cell: Cell, low: int, high: int | None) -> bool:
        domain = domains[cell]
        before = (domain.low, domain.high)
        domain.low = max(domain.low, low)
        if high is not None and (domain.high is None or high < domain.high):
            domain.high = high
        if (domain.low, domain.high) != before:
            if not _snap(domain):
                return False
            changed.append(cell)
        return not domain.empty

    if isinstance(relation, AtMost):
        if not narrow(relation.part, 0, domains[relation.whole].high):
            return None
        if not narrow(relation.whole, domains[relation.part].low, None):
            return None
        return changed
    total, parts = relation.total, relation.parts
    lows = [domains[p].low for p in parts]
    highs = [domains[p].high for p in parts]
    sum_high = None if any(h is None for h in highs) else sum(h for h in highs if h is not None)
    if not narrow(total, sum(lows), sum_high):
        return None
    t = domains[total]
    for i, part in enumerate(parts):
        others_low = sum(lows) - lows[i]
        others_high = (
            None
            if any(h is None for j, h in enumerate(highs) if j != i)
            else sum(h for j, h in enumerate(highs) if j != i and h is not None)
        )
        low = t.low - others_high if others_high is not None else 0
        high = t.high - others_low if t.high is not None else None
        if not narrow(part, low, high):
            return None
    return changed


def contradiction(facts: Facts) -> str | None:
    """None if the facts fit together; else what they break on (a relation, or a cell's
    own facts): no counts could make them all true."""
    system = _System(facts)
    return None if system.solve() is not None else system.broken


def exposed(
    facts: Facts, fewer_than: int = 2, secret: Sequence[Cell] | None = None
) -> list[Exposure]:
    """The secret cells the published figures narrow to fewer than `fewer_than` values.

    `secret`: the cells to look at (default: every cell marked `Hidden`). A cell the
    public facts alone already narrow as far is not returned; a secret cell that is
    also `Shown` somewhere is (one value). Raises ValueError if the facts contradict
    each other.
    """
    full, public = _System(facts), _System(facts.public())
    solved, baseline = full.solve(), public.solve()
    if solved is None or baseline is None:
        raise ValueError(f"the published facts contradict each other: {full.broken}")
    found = []
    for cell in facts.secret if secret is None else secret:
        left = full.survivors(solved, cell, fewer_than)
        if len(left) >= fewer_than:
            continue
        if cell in baseline:
            before = len(public.survivors(baseline, cell, fewer_than))
        else:
            before = fewer_than  # nothing public about it: wide open
        if before > len(left):
            found.append(Exposure(cell, tuple(left), before))
    return found
