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
import importlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from surveys.errors import StoreError, UnknownWaveError, UnlinkPendingError, WaveClosedError
from surveys.i18n import t
from surveys.model import Survey
from surveys.store import Invitation, OrgCount, Store, Wave

from .config import Config, Organisation, Role
from .headcounts import Oversubscribed, oversubscribed_groups
from .invites import deep_link, qr_png
from .services import load_registry, open_store

if TYPE_CHECKING:
    from analysis.report import Report


class OperationError(Exception):
    """A use case refused: `code` and `params` say why, each adapter in its own words.

    The command line's sentences are the catalogue's `cli.<code>`, the bot's
    `refusals.<code>`; `str()` gives the English one (for logs).
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(t(f"cli.{code}", "en", **params))


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
class Link:
    """One group link: an organisation's, or a role's own (restricted roles)."""

    org: Organisation
    role: Role | None
    invitation: Invitation
    url: str
    poster: bool  # fit for a QR code on a poster: the organisation's own link

    @property
    def label(self) -> str:
        return self.org.name + (f" / {self.role.id}" if self.role else "")


@dataclass(frozen=True, slots=True)
class Reports:
    """The reports of some waves as one Holm family, and their self-contained page."""

    reports: list[Report]
    page: str


class Operations:
    """The facilitator's use cases over one open store."""

    def __init__(self, config: Config, store: Store, registry: dict[str, Survey]) -> None:
        self.config = config
        self.store = store
        self.registry = registry

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

    async def open_wave_to_close(self, wave_id: int) -> tuple[Wave, list[OrgCount]]:
        """The wave a close would end, with its counts (for a confirmation step)."""
        wave = await self.wave(wave_id)
        if not wave.is_open:
            raise OperationError("wave_not_open", wave=wave_id)
        return wave, await self.store.response_counts(wave.id)

    # -- waves -----------------------------------------------------------------------

    async def open_wave(
        self,
        actor: str,
        survey_id: str,
        *,
        name: str | None = None,
        closes_on: str | None = None,
        opens_on: str | None = None,
    ) -> Wave:
        """Open (or schedule) a wave of a survey for every organisation."""
        survey = self.survey(survey_id)
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

    # -- links -----------------------------------------------------------------------

    async def links(
        self,
        actor: str,
        org_id: str | None = None,
        role_id: str | None = None,
        wave_id: int | None = None,
    ) -> list[Link]:
        """The group links: per organisation its own, plus each restricted role's own.

        Restricted roles are never offered on the organisation's link, so their people
        need a link that fixes the role; it is handed to them, not put on a poster.
        With `role_id`, only the links that fix that role.
        """
        orgs = [self.organisation(org_id)] if org_id else list(self.config.organisations)
        roles: list[Role | None] = (
            [self.role(role_id)] if role_id else [None, *self.config.restricted_roles()]
        )
        if wave_id is not None and (await self.wave(wave_id)).status == "closed":
            raise OperationError("wave_closed", wave=wave_id)
        links = []
        for org in orgs:
            for role in roles:
                invitation = await self.store.ensure_invitation(
                    org.id, role.id if role else None, wave_id
                )
                url = deep_link(self.config.telegram.bot_username, invitation.token)
                links.append(Link(org, role, invitation, url, poster=role is None or bool(role_id)))
        detail = f"orgs={','.join(o.id for o in orgs)} role={role_id} wave={wave_id}"
        await self.store.audit(actor, "invite", detail)
        return links

    @staticmethod
    def qr_code(link: Link) -> bytes:
        """The link as a QR code PNG (the one renderer both adapters use)."""
        return qr_png(link.url)

    # -- reports, exports, backups ---------------------------------------------------

    async def reports(
        self, actor: str, wave_ids: Sequence[int] | None, lang: str, *, action: str = "report"
    ) -> list[Report]:
        """Reports per survey of the given waves (default all), one Holm family, drawn."""
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
        await reporting.as_one_family(reports)
        await self.store.audit(actor, action, f"waves={list(wave_ids) if wave_ids else 'all'}")
        return reports

    async def page(self, reports: list[Report], lang: str) -> str:
        """The self-contained HTML page of reports that go out together."""
        return str(await (await _reporting()).page_of(reports, self.config, lang))

    async def report(self, actor: str, wave_ids: Sequence[int] | None, lang: str) -> Reports:
        reports = await self.reports(actor, wave_ids, lang)
        return Reports(reports, await self.page(reports, lang))

    async def backup(self, actor: str, path: Path) -> None:
        """An encrypted copy of the database without answers in progress."""
        try:
            await self.store.backup(path)
        except StoreError as exc:
            raise OperationError("invalid", reason=str(exc)) from None
        await self.store.audit(actor, "backup", str(path.name))


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


@contextlib.asynccontextmanager
async def open_operations(config: Config) -> AsyncIterator[Operations]:
    """The use cases over the configured store, closed again afterwards (CLI, scripts)."""
    store = await open_store(config)
    try:
        yield Operations(config, store, load_registry(config))
    finally:
        await store.close()


async def _reporting() -> ModuleType:
    """`trustscan.reporting`, imported off the event loop the first time."""
    return await asyncio.to_thread(importlib.import_module, "trustscan.reporting")
