"""The one package that owns SQL: `Store`, the facade every caller uses.

The tables follow the anonymity model of DESIGN §4:

* The files are SQLCipher-encrypted under a key derived from the master key, and 0600
  (`cipher`); a plaintext database of an older trustscan is encrypted on first open.
* An unfinished response is a *draft* keyed and encrypted (AES-GCM) under a session
  secret that the database never holds: it lives in the person's chat (every button
  carries it) and in the running process's memory. The master key opens no draft and
  finds nobody's; only its wave and organisation are in the clear, for the counts.
* A finished response waits in `pending`, unlinked from everything, and is released
  into `responses` only together with at least k − 1 others of its (wave,
  organisation, role), under fresh random ids written in random order, with the
  completion markers (`finished`, HMAC(wave secret, Telegram id)) and used codes of
  the people who gave them. At the close whatever waits is released naming nobody.
  So no copy, however many, shows one person's completion apart from k − 1 others'.
* Free text moves to `comments` at the release; the organisation's comments are then
  rewritten in random order, so no comment sits on disk beside its response.
* Closing a wave (and the nightly `rebuild`) rewrites the whole file, so neither cell
  offsets nor page order keep the order in which drafts or batches were written.
* An erased draft or salt counts as gone only once the WAL is truncated (`unlinking`).
* `contacts` (chat ids of people who asked for reminders) are never joined to answers;
  an opt-in from someone whose completion still waits is written with its release.
* `codes` (single-use codes of restricted roles) hold keyed hashes only, and nothing
  that names a response or draft; a restricted role's response cannot start without
  a usable one, and a code completes one response only (`codes`).

What lives only in memory, and so is lost on a restart, is listed in
`sessions.Memory` and said in docs/anonymity.md.

Where each job lives:

    schema       migrations, PRAGMAs, opening and encrypting a file
    base         the shared connections, write lock and clock
    rows         the typed rows handed out and taken in
    waves        partnership, waves and their secrets, counts
    directory    invitations, contacts, notification rounds, audit log
    sessions     sessions: drafts by secret, what only memory knows, the cache
    consents     who is on the consent screen (keyed by the session secret too)
    writer       the group-commit task (answers from many people share one fsync)
    batch        the SQL of one batch: starts, steps, completions (drafts, encrypted)
    release      releasing finished responses in shuffled batches of at least k
    codes        single-use codes: hashes, claiming one at a start, using it up at the end
    unlinking    waiting for the WAL to lose an erased link
    reads        what analysis loads (`AnswerColumns`); the packing stays in there
    maintenance  rebuild and backup
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .. import cipher, keys
from ..clock import Clock
from . import release, schema
from .base import Database
from .batch import Op, Releases
from .codes import Codes
from .consents import ConsentScreens
from .directory import Directory
from .maintenance import Maintenance
from .reads import AnswerColumns, Coded, Reads
from .release import Group
from .rows import (
    AnswerRow,
    AuditEntry,
    CodeToken,
    Comment,
    CompletedResponse,
    Contact,
    DailyCount,
    GroupCount,
    Invitation,
    ItemRow,
    OrganisationRow,
    OrgCount,
    RoleRow,
    Session,
    Wave,
)
from .sessions import Memory, SessionCache, Sessions
from .unlinking import Unlinker
from .waves import Waves
from .writer import Writer

DEFAULT_MIN_GROUP_SIZE = 5  # k, when the caller does not say (trustscan passes its config's)

__all__ = [
    "AnswerColumns",
    "AnswerRow",
    "AuditEntry",
    "CodeToken",
    "Coded",
    "Comment",
    "CompletedResponse",
    "Contact",
    "DailyCount",
    "GroupCount",
    "Invitation",
    "ItemRow",
    "OrgCount",
    "OrganisationRow",
    "RoleRow",
    "Session",
    "Store",
    "Wave",
]

Item = tuple[str, str]  # question, target


class Store:
    """Async access to one trustscan database. Open with `await Store.open(path, key)`.

    Each method hands over to the part that does the job (see the module docstring);
    the few that span parts (closing a wave, closing the store) are composed here.
    """

    def __init__(self, base: Database, min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> None:
        self._base = base
        self.path = base.path
        self.min_group_size = min_group_size
        self._cache = SessionCache()
        self._memory = Memory()
        self._unlinker = Unlinker(base)
        self._writer = Writer(base)
        self._waves = Waves(base)
        self._directory = Directory(base)
        self._sessions = Sessions(
            base, self._waves, self._cache, self._writer, self._unlinker, self._memory
        )
        self._consents = ConsentScreens(base, self._waves, self._memory)
        self._reads = Reads(base)
        self._maintenance = Maintenance(base, self._unlinker)
        self._codes = Codes(base)
        self._writer.hooks = self

    # -- what the writer asks around each batch (writer.Hooks) ---------------------------

    def releases(self) -> Releases:
        return self._sessions.releases(self.min_group_size)

    def committed(self, op: Op) -> None:
        self._cache.committed(op)

    async def after_batch(self, ops: Sequence[Op], released: Sequence[Group]) -> None:
        """Memory in step with the batch; opt-ins held for a release are written now."""
        finishers = self._sessions.after_batch(ops, released)
        held = self._memory.held_contacts
        for finisher in sorted(finishers, key=lambda f: f.user):
            if finisher.user in held and not self._memory.waiting_user(finisher.user):
                org, lang = held.pop(finisher.user)
                await self._directory.set_contact(finisher.user, org, lang)

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | Path,
        master_key: bytes,
        *,
        clock: Clock,
        min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    ) -> Store:
        """Open (creating, encrypting and migrating as needed); refuse a wrong master key.

        A plaintext database made by trustscan before encryption is encrypted in place
        first (its plaintext file is overwritten and removed). `clock` is the partnership's
        one clock: the store decides wave status and daily counts by its local date.
        `min_group_size` is k: finished responses are released in batches of at least k.
        """
        path = Path(path)
        db_key = keys.database_key(master_key)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, schema.prepare_file, path, db_key)
        db = await schema.connect(path, db_key)
        try:
            migrated = await schema.migrate(db)
            await schema.check_key(db, master_key)
            if migrated:  # the migration rewrote rows; leave no old cell image behind
                await db.execute("VACUUM")
            # a crash's leftover WAL (fetched: an open statement would block a later VACUUM)
            await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            reader = await schema.connect(path, db_key)
        except BaseException:
            await db.close()
            raise
        store = cls(Database(path, master_key, db_key, db, reader, clock), min_group_size)
        await store._base.hot.open(lambda: schema.connect_sync(path, db_key))
        store._writer.start()
        return store

    async def release_left_waiting(self) -> int:
        """Release, naming nobody, what waits from a process that ended (groups released).

        Only the process that serves respondents calls this when it starts (`bot.app`):
        a command run beside the running bot must not release what the bot still knows
        the authors of. See `release.release_orphans`.
        """
        async with self._base.write_lock:
            return await self._base.hot.run(release.release_orphans)

    async def close(self) -> None:
        if self._writer.running:
            await self._writer.stop()
            await self._unlinker.close()
            await self._base.hot.close()
        await self._base.reader.close()
        with contextlib.suppress(cipher.Error):
            await self._base.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await self._base.db.close()

    async def give_up_on_locks(self) -> None:
        """Answers stop waiting for a lock someone else holds (the bot is stopping)."""
        self._writer.give_up_on_locks()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def unlink_timeout(self) -> float:
        """Seconds a completion, close or /delete waits for the WAL to be truncated."""
        return self._unlinker.timeout

    @unlink_timeout.setter
    def unlink_timeout(self, seconds: float) -> None:
        self._unlinker.timeout = seconds

    # -- partnership and waves ---------------------------------------------------------

    async def sync_partnership(
        self, orgs: Iterable[tuple[str, str, int | None]], roles: Iterable[RoleRow]
    ) -> None:
        """Make organisations and roles match the config (existing waves keep their ids)."""
        await self._waves.sync_partnership(orgs, roles)

    async def organisations(self) -> list[OrganisationRow]:
        return await self._waves.organisations()

    async def roles(self) -> list[RoleRow]:
        """The roles with their labels in every language, as the config last gave them."""
        return await self._waves.roles()

    async def open_wave(
        self,
        survey: str,
        survey_version: int,
        orgs: Sequence[str],
        *,
        name: str | None = None,
        closes_on: str | None = None,
        opens_on: str | None = None,
    ) -> Wave:
        """Create a wave; it opens now unless `opens_on` lies in the future (then scheduled)."""
        return await self._waves.open_wave(
            survey, survey_version, orgs, name=name, closes_on=closes_on, opens_on=opens_on
        )

    async def start_scheduled_wave(self, wave_id: int) -> Wave:
        return await self._waves.start_scheduled_wave(wave_id)

    async def close_wave(self, wave_id: int) -> Wave:
        """Close: destroy the salt, delete sessions and unfinished responses, rebuild the file.

        The rebuild rewrites every table in key order, so no cell offset or page keeps the
        order in which this wave's responses were started or finished. Raises
        `UnlinkPendingError` (the wave *is* closed) if a reader keeps the WAL from being
        truncated within `unlink_timeout`; the store keeps trying in the background.
        """
        others = {code for w, code in self._memory.held_codes.values() if w != wave_id} | {
            f.code
            for g, fs in self._memory.waiting.items()
            if g[0] != wave_id
            for f in fs
            if f.code
        }
        await self._waves.close_wave(wave_id, others)
        self._cache.forget_wave(wave_id)
        self._memory.forget_wave(wave_id)
        await self._maintenance.rebuild()
        return await self._waves.wave(wave_id)

    async def rename_wave(self, wave_id: int, name: str) -> Wave:
        await self._waves.rename_wave(wave_id, name)
        return await self._waves.wave(wave_id)

    async def set_closing_date(self, wave_id: int, closes_on: str) -> Wave:
        """Move the closing date of a wave not yet closed (`WaveClosedError` otherwise)."""
        await self._waves.set_closing_date(wave_id, closes_on)
        return await self._waves.wave(wave_id)

    async def wave(self, wave_id: int) -> Wave:
        return await self._waves.wave(wave_id)

    async def waves(self, status: str | None = None, survey: str | None = None) -> list[Wave]:
        return await self._waves.waves(status, survey)

    async def response_counts(self, wave_id: int) -> list[OrgCount]:
        """Completed and in-progress responses per organisation of the wave."""
        return await self._waves.response_counts(wave_id)

    async def completed_counts(self, wave_ids: Sequence[int]) -> list[GroupCount]:
        """Completed responses per (wave, org, role); counts, so show them with care."""
        return await self._waves.completed_counts(wave_ids)

    async def daily_counts(self, wave_id: int) -> list[DailyCount]:
        return await self._waves.daily_counts(wave_id)

    # -- invitations, contacts, audit --------------------------------------------------

    async def invitation(self, token: str) -> Invitation | None:
        return await self._directory.invitation(token)

    async def invitations(self) -> list[Invitation]:
        return await self._directory.invitations()

    async def ensure_invitation(
        self,
        org: str,
        role: str | None = None,
        wave: int | None = None,
        survey: str | None = None,
    ) -> Invitation:
        """The group link for (org, role, wave, survey), created the first time it is asked for.

        A link bound to a survey leads to that survey's open wave whatever else opens;
        `survey=None` gives a link bound on its first use (`bind_invitation`).
        """
        return await self._directory.ensure_invitation(org, role, wave, survey)

    async def bind_invitation(self, token: str, survey: str) -> None:
        """Bind a link not yet bound to a survey to `survey`, for good (first use wins)."""
        await self._directory.bind_invitation(token, survey)

    async def set_contact(self, chat_id: int, org: str | None, lang: str) -> bool:
        """Opt a chat in for reminders and new-wave invitations; False if it waits.

        Someone whose completion still waits for its release is written with it: a new
        contact must not date their completion apart from k − 1 others'. If their group
        is still below k at the close, the opt-in goes (it would name them).
        """
        if self._memory.waiting_user(chat_id):
            self._memory.held_contacts[chat_id] = (org, lang)
            return False
        await self._directory.set_contact(chat_id, org, lang)
        return True

    async def remove_contact(self, chat_id: int) -> None:
        self._memory.held_contacts.pop(chat_id, None)
        await self._directory.remove_contact(chat_id)

    async def mark_blocked(self, chat_id: int) -> None:
        await self._directory.mark_blocked(chat_id)

    async def contacts(self, org: str | None = None) -> list[Contact]:
        return await self._directory.contacts(org)

    async def mark_notified(self, wave_id: int, kind: str) -> bool:
        """Record that a notification round ran; False if it had already (restart-safe)."""
        return await self._directory.mark_notified(wave_id, kind)

    async def begin_round(self, wave_id: int, kind: str) -> bool:
        """Start a notification round, or find it unfinished: True while it has work left."""
        return await self._directory.begin_round(wave_id, kind)

    async def round_sent(self, wave_id: int, kind: str) -> set[int]:
        """The chats an unfinished round has already reached."""
        return await self._directory.round_sent(wave_id, kind)

    async def mark_sent(self, wave_id: int, kind: str, chat_id: int) -> None:
        """One message of a round went out."""
        await self._directory.mark_sent(wave_id, kind, chat_id)

    async def finish_round(self, wave_id: int, kind: str) -> None:
        """Every contact of the round was handled: done, and its marks go."""
        await self._directory.finish_round(wave_id, kind)

    async def audit(self, actor: str, action: str, detail: str = "") -> None:
        await self._directory.audit(actor, action, detail)

    async def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        return await self._directory.audit_entries(limit)

    # -- sessions and answers ----------------------------------------------------------

    async def find_session(self, wave_id: int, user_id: int) -> Session | None:
        """The respondent's session in an open wave, with their answers; None if not started
        (or started before a restart and not yet brought back by a press, `recall`)."""
        return await self._sessions.find_session(wave_id, user_id)

    async def recall(self, user_id: int, secret: bytes) -> None:
        """A button press brought a session secret from the person's chat: after a restart,
        this is how the process finds their draft or consent screen again."""
        if secret in self._memory.recalled:
            return
        self._memory.recalled.add(secret)
        await self._sessions.recall(user_id, secret)
        await self._consents.recall(user_id, secret)

    def consent_secret(self, wave_id: int, user_id: int) -> bytes:
        """The session secret the welcome's buttons carry (the draft's, once begun)."""
        return self._consents.secret(wave_id, user_id)

    def waiting_for_release(self, wave_id: int) -> int:
        """How many completions of `wave_id` this process knows to wait for their release."""
        return sum(len(v) for g, v in self._memory.waiting.items() if g[0] == wave_id)

    async def begin(
        self,
        wave_id: int,
        user_id: int,
        org: str,
        role: str | None,
        lang: str,
        code: CodeToken | None = None,
    ) -> Session:
        """Start a response, or return the existing session (resume / already completed).

        A restricted role's response needs a usable single-use `code`; without one, or
        with one that is unknown, used or held by another response in progress, the
        store raises `CodeRefusedError` and starts nothing.
        """
        return await self._sessions.begin(wave_id, user_id, org, role, lang, code)

    async def set_language(self, session: Session, lang: str) -> None:
        """Remember the language the person chose for this session (sealed)."""
        await self._sessions.set_language(session, lang)

    async def save_step(
        self,
        session: Session,
        expected_cursor: int,
        new_cursor: int,
        put: Mapping[Item, Sequence[ItemRow]] | None = None,
        drop: Sequence[Item] = (),
        message_id: int | None = None,
    ) -> None:
        """Durably record one step; raise `StaleStepError` if the cursor moved meanwhile."""
        await self._sessions.save_step(session, expected_cursor, new_cursor, put, drop, message_id)

    async def complete(
        self,
        session: Session,
        expected_cursor: int,
        comment_items: Sequence[Item] = (),
        drop: Sequence[Item] = (),
    ) -> None:
        """Finish a response: unlink it from its session and its free text from it.

        A response started with a single-use code uses it up in the same transaction
        (`codes.consume`); if that code was used already, `CodeRefusedError`.
        """
        await self._sessions.complete(session, expected_cursor, comment_items, drop)

    async def delete_in_progress(self, session: Session) -> bool:
        """Erase an unfinished response and its session (/delete); False if none."""
        return await self._sessions.delete_in_progress(session)

    async def has_completed(self, wave_id: int, user_id: int) -> bool:
        return await self._sessions.has_completed(wave_id, user_id)

    async def show_consent(self, wave_id: int, user_id: int, message_id: int) -> None:
        """The person is on the consent screen of `wave_id`; its newest message (sealed)."""
        await self._consents.show(wave_id, user_id, message_id)

    async def consent_shown(self, wave_id: int, user_id: int) -> int | None:
        """The newest message of the person's consent screen in `wave_id`; None if none."""
        return await self._consents.shown(wave_id, user_id)

    async def clear_consent(self, wave_id: int, user_id: int) -> None:
        """The person has begun: the consent screen is behind them."""
        await self._consents.clear(wave_id, user_id)

    # -- single-use codes of restricted roles --------------------------------------------

    def code_token(self, code: str) -> CodeToken:
        """What the store takes of a normalised code: its keyed hash (`keys.code_hash`)."""
        return self._codes.token(code)

    async def add_codes(self, org: str, role: str, tokens: Sequence[CodeToken]) -> None:
        """Store freshly issued codes of (org, role), as hashes only."""
        await self._codes.add(org, role, tokens)

    async def code_usable(self, token: CodeToken, org: str, role: str) -> bool:
        """Whether a response of (org, role) could start with this code now."""
        held = self._memory.codes_in_use()
        return token.digest not in held and await self._codes.usable(token, org, role)

    # -- analysis reads ----------------------------------------------------------------

    async def answer_columns(self, wave_ids: Sequence[int]) -> AnswerColumns:
        """The completed answers of these waves, column by column (see `AnswerColumns`)."""
        return await self._reads.answer_columns(wave_ids)

    async def completed_responses(self, wave_ids: Sequence[int]) -> list[CompletedResponse]:
        """Who gave each completed response of these waves (random order, no ids)."""
        columns = await self._reads.answer_columns(wave_ids)
        return [columns.response(i) for i in range(columns.responses)]

    async def comments(self, wave_ids: Sequence[int]) -> list[Comment]:
        """Free-text answers of these waves, unlinked from their responses."""
        return await self._reads.comments(wave_ids)

    # -- maintenance -------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Rewrite the whole file (VACUUM) and truncate the WAL: no insertion order survives."""
        await self._maintenance.rebuild()

    async def rebuild_daily(self, today: str) -> bool:
        """`rebuild` once per day while a wave is open; False if already done or nothing open."""
        return await self._maintenance.rebuild_daily(today)

    async def backup(self, target: str | Path) -> None:
        """An encrypted, consistent copy (0600) that holds no link to an answer in progress."""
        await self._maintenance.backup(target)
