"""Everything a facilitator can do, once: waves, links and QR codes, reports, exports, backups.

Both adapters — the command line (`trustscan.cli`) and the Telegram bot
(`bot.facilitator`) — call these use cases and only parse arguments and print or send
the result. Here each use case validates its input, is audited with who asked, and
turns store errors into an `OperationError` whose `code` and `params` each adapter
phrases in its own words (`str()` gives the English sentence the CLI prints).

The analysis modules (pandas, scipy, plotly: about a second to import) are loaded only
when a report is asked for, in a worker thread, so a bot that never reports never pays.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from surveys.errors import StoreError, UnknownWaveError, UnlinkPendingError, WaveClosedError
from surveys.i18n import t
from surveys.model import Survey
from surveys.store import Invitation, OrgCount, Store, Wave

from . import codes
from .clock import Clock, partnership_clock
from .config import Config, Organisation, Role
from .headcounts import Oversubscribed, oversubscribed_groups
from .invites import deep_link, qr_png
from .services import load_registry, open_store

if TYPE_CHECKING:
    from analysis.report import Report

MAX_WAVE_NAME = 80  # characters: a chart legend and a Telegram line stay readable


class OperationError(Exception):
    """A use case refused: `code` and `params` say why, each adapter in its own words.

    The command line's sentences are the catalogue's `cli.<code>`, the bot's
    `refusals.<code>`; `str()` gives the English one (for logs).
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(t(self.key("cli"), "en", **params))

    def key(self, adapter: str) -> str:
        """The catalogue key of the sentence for `adapter` ("cli" or "refusals").

        A plain code is `<adapter>.<code>`; a code of another area (`waves.second_open`)
        keeps both sentences in that area, as `waves.cli_second_open` and
        `waves.refusals_second_open`.
        """
        area, _, name = self.code.rpartition(".")
        return f"{area}.{adapter}_{name}" if area else f"{adapter}.{self.code}"


@dataclass(frozen=True, slots=True)
class WaveStatus:
    """A wave with its response counts per organisation and its headcount warnings."""

    wave: Wave
    counts: tuple[OrgCount, ...]
    flags: tuple[Oversubscribed, ...]


@dataclass(frozen=True, slots=True)
class Closed:
    """A wave just closed; `unlink_pending` if a reader still holds the WAL."""

    wave: Wave
    completed: int
    unlink_pending: bool


@dataclass(frozen=True, slots=True)
class Closing:
    """What closing a wave would do: its counts, and the organisations below k.

    Organisation counts are shown live anyway; a role's group is not listed while the
    wave is open (a group leaving the list would tell who just finished), the facilitator
    only hears that small role groups are left out of the report as well.
    """

    wave: Wave
    counts: tuple[OrgCount, ...]
    below_k: tuple[OrgCount, ...]
    k: int

    @property
    def completed(self) -> int:
        return sum(c.completed for c in self.counts)

    @property
    def in_progress(self) -> int:
        return sum(c.in_progress for c in self.counts)


@dataclass(frozen=True, slots=True)
class WavePage:
    """One page of the wave overview: `statuses` from `start` of `total` waves."""

    statuses: tuple[WaveStatus, ...]
    start: int
    total: int


@dataclass(frozen=True, slots=True)
class Link:
    """One group link: an organisation's, or a role's own (restricted roles)."""

    org: Organisation
    role: Role | None
    invitation: Invitation
    url: str
    poster: bool  # fit for a QR code on a poster: the organisation's own link
    survey: str = ""  # the survey the link leads to for its whole life

    @property
    def label(self) -> str:
        return self.org.name + (f" / {self.role.id}" if self.role else "")


@dataclass(frozen=True, slots=True)
class CodeSheet:
    """Single-use codes just issued for one restricted role of one organisation.

    `link` is the role's own link they go with (the slips print it); the codes are
    shown this once and stored only as keyed hashes.
    """

    org: Organisation
    role: Role
    codes: tuple[str, ...]
    link: Link


@dataclass(frozen=True, slots=True)
class Reports:
    """The reports of some waves, each with its own families of tests, and their page."""

    reports: list[Report]
    page: str
    day: dt.date  # the partnership's date the reports were made (the PDF's cover)


class Operations:
    """The facilitator's use cases over one open store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        registry: dict[str, Survey],
        clock: Clock,
    ) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self.clock = clock  # the partnership's one clock, the same the store decides by

    def today(self) -> str:
        """Today's date: closing dates are whole local days."""
        return self.clock.today().isoformat()

    async def detectable_lines(self, survey_id: str, lang: str) -> list[str]:
        """The change the next wave of a survey can detect per organisation, as lines.

        Printed when a wave opens (CLI and bot), so nobody later reads a trend that is not
        significant as "nothing changed" without having been told what n could show.
        Imported here, not at start-up: it loads pandas (see `_reporting`).
        """
        detectable = importlib.import_module("trustscan.detectable")
        plan = await detectable.plan_next_wave(self.store, self.config, self.survey(survey_id))
        lines: list[str] = detectable.detectable_lines(plan, lang)
        return lines

    # -- lookups that validate -------------------------------------------------------

    def survey(self, survey_id: str) -> Survey:
        return survey_of(self.registry, survey_id)

    def organisation(self, org_id: str) -> Organisation:
        return organisation_of(self.config, org_id)

    def role(self, role_id: str) -> Role:
        return role_of(self.config, role_id)

    async def wave(self, wave_id: int) -> Wave:
        try:
            return await self.store.wave(wave_id)
        except UnknownWaveError:
            raise OperationError("unknown_wave", wave=wave_id) from None

    async def closing(self, wave_id: int) -> Closing:
        """What closing the wave would do (for a confirmation step before it is done)."""
        wave = await self.wave(wave_id)
        if wave.status == "closed":
            raise OperationError("wave_closed", wave=wave_id)
        if not wave.is_open:
            raise OperationError("wave_not_open", wave=wave_id)
        counts = tuple(await self.store.response_counts(wave.id))
        k = self.config.min_group_size
        return Closing(wave, counts, tuple(c for c in counts if c.completed < k), k)

    # -- waves -----------------------------------------------------------------------

    async def open_wave(
        self,
        actor: str,
        survey_id: str,
        *,
        name: str | None = None,
        closes_on: str | None = None,
        opens_on: str | None = None,
        force: bool = False,
    ) -> Wave:
        """Open (or schedule) a wave of a survey for every organisation.

        A second open wave of the same survey is refused unless `force`: the survey's
        group links lead to one of them only (the older), so the other would need links
        of its own (`links(wave_id=…)`).
        """
        survey = self.survey(survey_id)
        if not force:
            await self._refuse_second_open(survey.id, opens_on)
        try:
            wave = await self.store.open_wave(
                survey.id,
                survey.version,
                [o.id for o in self.config.organisations],
                name=name,
                closes_on=closes_on,
                opens_on=opens_on,
            )
        except StoreError as exc:
            raise OperationError("invalid", reason=str(exc)) from None
        await self.store.audit(actor, "wave.open", f"wave {wave.id} ({survey.id})")
        return wave

    async def _refuse_second_open(self, survey_id: str, opens_on: str | None) -> None:
        """Refuse a wave that would be open beside an open wave of the same survey."""
        starts = max(opens_on or "", self.today())
        for other in await self.store.waves(status="open", survey=survey_id):
            if other.closes_on is None or other.closes_on >= starts:
                raise OperationError(
                    "waves.second_open", survey=survey_id, wave=other.id, name=other.name
                )

    async def rename_wave(self, actor: str, wave_id: int, name: str) -> Wave:
        """Give a wave the name charts and reports show (any status: a name is no promise)."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_WAVE_NAME:
            raise OperationError("waves.bad_name", limit=MAX_WAVE_NAME)
        await self.wave(wave_id)
        wave = await self.store.rename_wave(wave_id, name)
        await self.store.audit(actor, "wave.rename", f"wave {wave_id}")
        return wave

    async def extend_wave(self, actor: str, wave_id: int, closes_on: str) -> Wave:
        """Move the closing date of a wave not yet closed; never before today.

        The wave closes at the end of `closes_on`. A closed wave stays closed: its
        secret is gone, so nobody could resume, and a later date must not suggest otherwise.
        """
        wave = await self.wave(wave_id)
        if wave.status == "closed":
            raise OperationError("wave_closed", wave=wave_id)
        today = self.today()
        earliest = max(today, wave.opens_on or "") if wave.status == "scheduled" else today
        if closes_on < earliest or (wave.status == "scheduled" and closes_on == earliest):
            raise OperationError("waves.closes_too_early", wave=wave_id, date=earliest)
        try:
            wave = await self.store.set_closing_date(wave_id, closes_on)
        except WaveClosedError:  # closed meanwhile (the scheduler, another facilitator)
            raise OperationError("wave_closed", wave=wave_id) from None
        await self.store.audit(actor, "wave.extend", f"wave {wave_id} until {closes_on}")
        return wave

    async def close_wave(self, actor: str, wave_id: int) -> Closed:
        """Close a wave: its secret, sessions and unfinished answers are destroyed."""
        pending = False
        try:
            wave = await self.store.close_wave(wave_id)
        except UnknownWaveError:
            raise OperationError("unknown_wave", wave=wave_id) from None
        except WaveClosedError:
            raise OperationError("wave_closed", wave=wave_id) from None
        except UnlinkPendingError:  # closed; the store clears the WAL once the reader lets go
            wave, pending = await self.store.wave(wave_id), True
        await self.store.audit(actor, "wave.close", f"wave {wave.id}")
        counts = await self.store.response_counts(wave.id)
        return Closed(wave, sum(c.completed for c in counts), pending)

    async def overview(self, actor: str, last: int | None = None) -> list[WaveStatus]:
        """Waves (the `last` n, or all) with counts per organisation and headcount flags."""
        waves = await self.store.waves()
        shown = waves[-last:] if last else waves
        flags = await oversubscribed_groups(self.store, self.config.organisations, shown)
        await self.store.audit(actor, "waves")
        return [
            WaveStatus(
                wave,
                tuple(await self.store.response_counts(wave.id)),
                tuple(f for f in flags if f.wave == wave.id),
            )
            for wave in shown
        ]

    async def overview_page(self, actor: str, start: int | None, size: int) -> WavePage:
        """`size` waves from the `start`-th (0 = oldest; None = the newest page), clamped."""
        waves = await self.store.waves()
        last = max(0, len(waves) - size)
        start = last if start is None else max(0, min(start, last))
        shown = waves[start : start + size]
        flags = await oversubscribed_groups(self.store, self.config.organisations, shown)
        await self.store.audit(actor, "waves", f"from {start}")
        statuses = [
            WaveStatus(
                wave,
                tuple(await self.store.response_counts(wave.id)),
                tuple(f for f in flags if f.wave == wave.id),
            )
            for wave in shown
        ]
        return WavePage(tuple(statuses), start, len(waves))

    # -- links -----------------------------------------------------------------------

    async def links(
        self,
        actor: str,
        org_id: str | None = None,
        role_id: str | None = None,
        wave_id: int | None = None,
        survey_id: str | None = None,
    ) -> list[Link]:
        """The group links: per organisation its own, plus each restricted role's own.

        Every link leads to one survey for its whole life: the given one, the given
        wave's, or else each survey with a wave open or scheduled now (refused if none).
        Restricted roles are never offered on the organisation's link, so their people
        need a link that fixes the role; it is handed to them, not put on a poster.
        With `role_id`, only the links that fix that role.
        """
        orgs = [self.organisation(org_id)] if org_id else list(self.config.organisations)
        roles: list[Role | None] = (
            [self.role(role_id)] if role_id else [None, *self.config.restricted_roles()]
        )
        surveys = await self._link_surveys(wave_id, survey_id)
        links = []
        for survey in surveys:
            for org in orgs:
                for role in roles:
                    invitation = await self.store.ensure_invitation(
                        org.id, role.id if role else None, wave_id, survey
                    )
                    url = deep_link(self.config.telegram.bot_username, invitation.token)
                    poster = role is None or bool(role_id)
                    links.append(Link(org, role, invitation, url, poster, survey))
        detail = (
            f"orgs={','.join(o.id for o in orgs)} role={role_id} wave={wave_id} "
            f"surveys={','.join(surveys)}"
        )
        await self.store.audit(actor, "invite", detail)
        return links

    async def _link_surveys(self, wave_id: int | None, survey_id: str | None) -> list[str]:
        """The surveys links are made for: the wave's, the one named, or those running now."""
        if wave_id is not None:
            wave = await self.wave(wave_id)
            if wave.status == "closed":
                raise OperationError("wave_closed", wave=wave_id)
            return [wave.survey]
        if survey_id is not None:
            return [self.survey(survey_id).id]
        running = await self.store.waves(status="open") + await self.store.waves(status="scheduled")
        surveys = list(dict.fromkeys(w.survey for w in sorted(running, key=lambda w: w.id)))
        if not surveys:
            raise OperationError("waves.no_survey_for_links", available=", ".join(self.registry))
        return surveys

    # -- single-use codes --------------------------------------------------------------

    async def issue_codes(
        self, actor: str, org_id: str, role_id: str, count: int, survey_id: str | None = None
    ) -> CodeSheet:
        """`count` single-use codes for a restricted role of an organisation, one per member.

        Each code starts and completes one response of that role (the store refuses the
        role without one). They go with the role's own link of one survey: the given one,
        or the one survey with a wave open or scheduled (named when there are several).
        Everything is checked before a code is made; the audit names organisation, role
        and count, never a code.
        """
        org, role = self.organisation(org_id), self.role(role_id)
        if not role.restricted:
            restricted = ", ".join(r.id for r in self.config.restricted_roles())
            raise OperationError("codes.not_restricted", role=role.id, restricted=restricted)
        if not 1 <= count <= codes.MAX_COUNT:
            raise OperationError("codes.bad_count", count=count, limit=codes.MAX_COUNT)
        try:
            surveys = await self._link_surveys(None, survey_id)
        except OperationError as exc:
            if exc.code != "waves.no_survey_for_links":
                raise
            raise OperationError("codes.no_survey", available=", ".join(self.registry)) from None
        if len(surveys) > 1:
            raise OperationError("codes.which_survey", surveys=", ".join(surveys))
        invitation = await self.store.ensure_invitation(org.id, role.id, None, surveys[0])
        url = deep_link(self.config.telegram.bot_username, invitation.token)
        issued = await codes.issue(self.store, org.id, role.id, count)
        await self.store.audit(
            actor, "codes", f"org={org.id} role={role.id} count={count} survey={surveys[0]}"
        )
        return CodeSheet(
            org, role, issued.codes, Link(org, role, invitation, url, False, surveys[0])
        )

    @staticmethod
    def qr_code(link: Link) -> bytes:
        """The link as a QR code PNG (the one renderer both adapters use)."""
        return qr_png(link.url)

    # -- reports, exports, backups ---------------------------------------------------

    async def reports(
        self, actor: str, wave_ids: Sequence[int] | None, lang: str, *, action: str = "report"
    ) -> list[Report]:
        """Reports per survey of the given waves (default all), their families adjusted, drawn.

        An export is of tables, and an open wave has none yet (only counts until it
        closes): asking for one is refused in a sentence rather than giving empty files.
        """
        if action == "export":
            await self.refuse_open_for_tables(wave_ids)
        waves = [await self.wave(w) for w in wave_ids] if wave_ids else await self.store.waves()
        for survey_id in dict.fromkeys(w.survey for w in waves):
            survey = self.registry.get(survey_id)
            if survey is not None and not survey.offers(lang):  # refused, never mixed
                raise OperationError(
                    "survey_language", survey=survey_id, languages=", ".join(survey.languages)
                )
        reporting = await _reporting()
        reports: list[Report] = [
            r
            async for r in reporting.iter_reports(
                self.store, self.config, self.registry, wave_ids or None, lang
            )
        ]
        await reporting.settled(reports)
        await self.store.audit(actor, action, f"waves={list(wave_ids) if wave_ids else 'all'}")
        return reports

    async def refuse_open_for_tables(self, wave_ids: Sequence[int] | None) -> None:
        """Tables of these waves (default all) exist only once closed: refuse in a sentence."""
        waves = [await self.wave(w) for w in wave_ids] if wave_ids else await self.store.waves()
        _refuse_open_for_tables(waves, named=bool(wave_ids))

    async def page(self, reports: list[Report], lang: str, org: str | None = None) -> str:
        """The self-contained HTML page of reports that go out together (of `org` only)."""
        return str(await (await _reporting()).page_of(reports, self.config, lang, org))

    async def report(
        self, actor: str, wave_ids: Sequence[int] | None, lang: str, org: str | None = None
    ) -> Reports:
        """The reports and their page; with `org`, the page of that partner only."""
        if org is not None:
            organisation_of(self.config, org)  # an unknown id is refused before any work
        reports = await self.reports(actor, wave_ids, lang)
        return Reports(reports, await self.page(reports, lang, org), self.clock.today())

    async def backup(self, actor: str, path: Path) -> None:
        """An encrypted copy of the database without answers in progress."""
        try:
            await self.store.backup(path)
        except StoreError as exc:
            raise OperationError("invalid", reason=str(exc)) from None
        await self.store.audit(actor, "backup", str(path.name))


def _refuse_open_for_tables(waves: Sequence[Wave], *, named: bool) -> None:
    """Tables exist for closed waves only: refuse a named open wave, or no closed wave."""
    unclosed = [w for w in waves if w.status != "closed"]
    if unclosed and (named or len(unclosed) == len(waves)):
        wave = unclosed[0]
        raise OperationError("waves.counts_only", wave=wave.id, name=wave.name)
    if not waves:
        raise OperationError("waves.nothing_closed")


def survey_of(registry: dict[str, Survey], survey_id: str) -> Survey:
    if survey_id not in registry:
        raise OperationError("unknown_survey", survey=survey_id, available=", ".join(registry))
    return registry[survey_id]


def organisation_of(config: Config, org_id: str) -> Organisation:
    org = config.organisation(org_id)
    if org is None:
        known = ", ".join(o.id for o in config.organisations)
        raise OperationError("unknown_org", org=org_id, known=known)
    return org


def role_of(config: Config, role_id: str) -> Role:
    role = config.role(role_id)
    if role is None:
        raise OperationError(
            "unknown_role", role=role_id, known=", ".join(r.id for r in config.roles)
        )
    return role


def check_database_access(config: Config) -> None:
    """Refuse, in one sentence, a database this user may not write, before touching it.

    SQLite needs to write the file and to create its journal files beside it; without
    that it fails deep inside with messages that point elsewhere (a wrong master key).
    A file someone made read-only is not made writable again behind their back.
    """
    path = config.database.resolve()
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the store creates missing folders from the first that exists
    if path.is_dir():
        raise OperationError("waves.database_is_folder", path=path)
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise OperationError("waves.database_read_only", path=path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OperationError("waves.database_folder_read_only", path=path, folder=folder)


@contextlib.asynccontextmanager
async def open_operations(config: Config, clock: Clock | None = None) -> AsyncIterator[Operations]:
    """The use cases over the configured store, closed again afterwards (CLI, scripts)."""
    check_database_access(config)
    clock = clock or partnership_clock(config)
    store = await open_store(config, clock)
    try:
        yield Operations(config, store, load_registry(config), clock)
    finally:
        await store.close()


async def _reporting() -> ModuleType:
    """`trustscan.reporting`, imported off the event loop the first time."""
    return await asyncio.to_thread(importlib.import_module, "trustscan.reporting")
