"""Glue between the pure engine and the store, shared by every adapter that persists.

It turns a stored session into an engine `State` and an engine `Change` into the rows
the store writes, so the bot (and benchmarks) never encode answers themselves.
"""

from __future__ import annotations

from types import MappingProxyType

from .answers import Answer
from .engine import Change, Questionnaire, State, item_key, split_key
from .qtypes import decode, encode
from .store import ItemRow, Session, Store


def state_of(questionnaire: Questionnaire, session: Session) -> State:
    """The engine state stored for a session; rows of unknown questions are ignored."""
    answers: dict[str, Answer] = {}
    for (question_id, target), rows in session.answers_by_item().items():
        if not questionnaire.survey.has_question(question_id):
            continue
        answers[item_key(question_id, target or None)] = decode(
            questionnaire.survey.question(question_id), rows
        )
    return questionnaire.settle(State(session.cursor, MappingProxyType(answers)))


def _item(key: str) -> tuple[str, str]:
    question_id, target = split_key(key)
    return question_id, target or ""


async def persist(
    store: Store,
    questionnaire: Questionnaire,
    session: Session,
    before: State,
    change: Change,
    message_id: int | None = None,
) -> None:
    """Durably store `change` (made from `before`); raises StaleStepError if outdated.

    `message_id` (the chat message of a typed answer) makes a redelivered message a no-op.
    """
    put: dict[tuple[str, str], list[ItemRow]] = {}
    for key, answer in change.put.items():
        question_id, _ = split_key(key)
        put[_item(key)] = encode(questionnaire.survey.question(question_id), answer)
    await store.save_step(
        session,
        before.cursor,
        change.state.cursor,
        put,
        [_item(k) for k in change.drop],
        message_id=message_id,
    )


async def finish(
    store: Store, questionnaire: Questionnaire, session: Session, state: State
) -> None:
    """Complete the response: drop answers that no longer apply, unlink the free text."""
    await store.complete(
        session,
        state.cursor,
        comment_items=[_item(k) for k in questionnaire.text_keys(state)],
        drop=[_item(k) for k in questionnaire.stale_keys(state)],
    )
