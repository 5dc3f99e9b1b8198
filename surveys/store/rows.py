"""The typed rows the store hands out and takes in: no caller indexes a positional tuple.

Answer rows are NamedTuples rather than dataclasses: millions pass through the writer
and the session cache, and a NamedTuple is as cheap as the plain tuple it replaces
while its fields have names (and existing `row[i]` readers keep working).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..answers import ItemRow as ItemRow  # defined beside its encoding; re-exported


class AnswerRow(NamedTuple):
    """One stored part of an answer, with the item it belongs to."""

    question: str
    target: str  # '' unless per-partner
    part: str
    value: int | None
    text: str | None

    @property
    def item(self) -> tuple[str, str]:
        return self.question, self.target

    @property
    def row(self) -> ItemRow:
        return ItemRow(self.part, self.value, self.text)


class OrganisationRow(NamedTuple):
    """An organisation as `sync_partnership` stored it."""

    id: str
    name: str
    headcount: int | None


class RoleRow(NamedTuple):
    """A role as `sync_partnership` stores it: its label in every language.

    A restricted role's responses need a single-use code (`CodeToken`): the store
    refuses to start one without.
    """

    id: str
    labels: Mapping[str, str]
    restricted: bool = False


class DailyCount(NamedTuple):
    """Responses started and completed per organisation on one day (no finer time)."""

    day: str
    org: str
    started: int
    completed: int


class AuditEntry(NamedTuple):
    at: str
    actor: str
    action: str
    detail: str


class Comment(NamedTuple):
    """A free-text answer, unlinked from its response (no response id, random order)."""

    wave: int
    org: str
    question: str
    target: str
    text: str


class CompletedResponse(NamedTuple):
    """Who gave a completed response, and how many answer parts it holds; no id."""

    wave: int
    org: str
    role: str | None
    answers: int


@dataclass(frozen=True, slots=True)
class Wave:
    id: int
    survey: str
    name: str
    status: str
    opens_on: str | None
    closes_on: str | None
    opened_at: str | None
    closed_at: str | None
    orgs: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class Invitation:
    """A group link: it leads to its wave, or else to the open wave of its survey.

    `survey` is None only for a link made before links were bound to a survey; such a
    link is bound to the survey of the first wave it leads to.
    """

    token: str
    org: str
    role: str | None
    wave: int | None
    survey: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A respondent's place in a wave: their draft, found by their session secret.

    `key` (and `response`) name the draft; `seal` is the key it is encrypted under and
    `secret` the session secret both derive from: the chat carries it in its buttons
    (`keys.secret_text`), the database never holds it. `user` is the Telegram id the
    session was found for (memory only).
    """

    key: bytes
    wave: int
    status: str  # "in_progress" | "completed"
    response: bytes | None = None
    org: str | None = None
    role: str | None = None
    lang: str | None = None
    cursor: int = 0
    rows: tuple[AnswerRow, ...] = ()
    last_message: int | None = None  # the last typed answer's chat message (sealed on disk)
    seal: bytes = field(default=b"", repr=False, compare=False)  # never stored
    secret: bytes = field(default=b"", repr=False, compare=False)  # never stored
    user: int | None = field(default=None, repr=False, compare=False)
    code: bytes | None = field(default=None, repr=False, compare=False)  # a held code's hash

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def answers_by_item(self) -> dict[tuple[str, str], list[ItemRow]]:
        items: dict[tuple[str, str], list[ItemRow]] = {}
        for row in self.rows:
            items.setdefault(row.item, []).append(row.row)
        return items


@dataclass(frozen=True, slots=True)
class CodeToken:
    """A single-use code as the store takes it: its keyed hash, never the code itself.

    Made by `Store.code_token` from a normalised code; a restricted role's response
    is started only with one (`Store.begin(..., code=token)`).
    """

    digest: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Contact:
    chat_id: int
    org: str | None
    lang: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class OrgCount:
    org: str
    completed: int
    in_progress: int


@dataclass(frozen=True, slots=True)
class GroupCount:
    """Completed responses of one (wave, organisation, role)."""

    wave: int
    org: str
    role: str | None
    completed: int
