"""How many Hypothesis examples a costly property runs: scaled by the loaded profile.

A property that builds whole reports per example names its budget under Hypothesis's
default profile (100 examples); a profile that asks for more or fewer examples (a quick
one for `make test`, a deep one for a nightly run) scales every such budget alike,
instead of each test hard-coding a number the profile cannot reach.
"""

from __future__ import annotations

from hypothesis import settings

DEFAULT = 100  # Hypothesis's own default max_examples


def scaled(examples: int) -> int:
    """`examples` under the default profile, in proportion under the one loaded (≥ 1)."""
    return max(1, round(examples * settings().max_examples / DEFAULT))
