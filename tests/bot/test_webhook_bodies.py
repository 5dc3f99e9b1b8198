"""What the webhook makes of a posted body before parsing it: depth, and what a log may name."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.updates import loggable_id
from bot.webhook import MAX_DEPTH, too_deep

# JSON with strings full of the characters that could fool a bracket count
tricky = st.text(alphabet='[]{}"\\ab', max_size=8)
values = st.recursive(
    st.none() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=200,
)


def depth(value: Any) -> int:
    """How deep arrays and objects nest in `value` (a scalar: 0)."""
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


def wrapped(value: Any, levels: int) -> Any:
    for n in range(levels):
        value = [value] if n % 2 else {"k": value, "s": '"]}\\'}
    return value


@given(values, st.integers(min_value=0, max_value=2 * MAX_DEPTH))
def test_too_deep_tells_the_nesting_exactly_whatever_the_strings_hold(
    value: Any, levels: int
) -> None:
    """For any JSON, however its strings are filled with brackets, quotes and backslashes."""
    document = wrapped(value, levels)
    assert too_deep(json.dumps(document).encode()) == (depth(document) > MAX_DEPTH)


def test_a_very_deep_body_is_found_at_once() -> None:
    assert too_deep(b"[" * 20_000 + b"]" * 20_000)
    assert not too_deep(json.dumps({"text": "[" * 20_000}).encode())


def test_only_a_number_is_logged_as_an_update_id() -> None:
    """Anything else is named by its kind and size: a log line never holds what was posted."""
    assert loggable_id(123456) == "123456"
    assert loggable_id(None) == "without an id"
    assert loggable_id("x" * 10**6) == "with an id that is not a number (str, 1000000 characters)"
    assert loggable_id({"text": "secret"}) == "with an id that is not a number (dict)"
    assert loggable_id(True) == "with an id that is not a number (bool)"
