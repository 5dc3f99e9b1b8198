"""How many examples a Hypothesis property tries: bounded in `make test`, deep on request.

`make test` loads the profile "fast" (tests/conftest.py): each property tries a tenth of
the examples it names, at least `FLOOR`, so the properties cost seconds, not minutes, on
a 2-core machine. `make test-deep` loads "deep" and every property tries all it names.
Explicit `@example` cases run under both.
"""

from __future__ import annotations

from hypothesis import settings

DEEP = 100  # the deep profile's max_examples: the scale the numbers in the tests are given in
FLOOR = 3


def examples(deep: int, floor: int = FLOOR) -> int:
    """`deep` examples under the deep profile, proportionally fewer under the fast one.

    A property that builds whole reports per example may lower the `floor` (its explicit
    `@example` cases run in every profile).
    """
    return max(floor, deep * settings.default.max_examples // DEEP)
