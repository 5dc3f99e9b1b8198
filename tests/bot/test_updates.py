"""Reading updates one by one: an unreadable one is skipped by id, never with its content."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from telegram import Bot

from bot.updates import parse_update, readable

BOT = Bot("123:TEST")
POISON: dict[str, Any] = {
    "update_id": 8,
    "message": {
        "message_id": 77,
        "date": 0,
        "chat": {"id": 5, "type": "private"},
        "poll": {"id": "secret-poll-content"},  # lacks the fields a newer Bot API requires
    },
}
HELP: dict[str, Any] = {
    "update_id": 9,
    "message": {
        "message_id": 78,
        "date": 0,
        "chat": {"id": 5, "type": "private"},
        "text": "/help",
    },
}


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]


def test_a_readable_update_is_parsed(caplog: pytest.LogCaptureFixture) -> None:
    update = parse_update(HELP, BOT)
    assert update is not None and update.update_id == 9
    assert update.effective_message is not None and update.effective_message.text == "/help"
    assert skipped(caplog) == []


def test_an_unreadable_update_is_none_and_logged_by_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert parse_update(POISON, BOT) is None
    assert skipped(caplog) == ["skipped update 8: it cannot be read (TypeError)"]
    assert "secret-poll-content" not in caplog.text


def test_a_batch_keeps_the_readable_and_reduces_the_rest_to_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    batch = json.dumps({"ok": True, "result": [POISON, HELP]}).encode()
    result = json.loads(readable(batch))["result"]
    assert result == [{"update_id": 8}, HELP]
    assert skipped(caplog) == ["skipped update 8: it cannot be read (TypeError)"]
    assert "secret-poll-content" not in caplog.text


def test_a_batch_without_problems_is_passed_on_unchanged() -> None:
    batch = json.dumps({"ok": True, "result": [HELP]}).encode()
    assert readable(batch) is batch
