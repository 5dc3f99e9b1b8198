"""What handlers reach through the context: typed services instead of string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from surveys.clock import Clock
from surveys.engine import Questionnaire, Respondent
from surveys.model import Survey
from surveys.store import Store, Wave
from trustscan.config import Config
from trustscan.operations import Operations

from .timing import Timing

if TYPE_CHECKING:
    from analysis.png import PngRenderer


@dataclass(slots=True)
class Services:
    """Long-lived objects shared by all handlers; the store is opened in post_init."""

    config: Config
    registry: dict[str, Survey]
    clock: Clock
    timing: Timing = field(default_factory=Timing)
    store: Store | None = None
    opt_in_key: bytes | None = None  # signs opt-in buttons; derived in post_init
    stopping: bool = False  # set on SIGTERM/SIGINT: no new notification goes out
    rounds: set[tuple[int, str]] = field(default_factory=set)  # notification rounds under way
    _questionnaires: dict[tuple[str, str, str | None, str], Questionnaire] = field(
        default_factory=dict
    )
    _waves: dict[int, Wave] = field(default_factory=dict)
    _png: PngRenderer | None = None  # made on the first /report

    def png_renderer(self) -> PngRenderer:
        """The chart renderer, kept warm between reports (its browser starts on first use).

        Imported here, not at start-up: a bot that never reports never loads plotly.
        """
        if self._png is None:
            from analysis.png import PngRenderer

            self._png = PngRenderer()
        return self._png

    async def close(self) -> None:
        if self._png is not None:
            await self._png.close()
        if self.store is not None:
            await self.store.close()
            self.store = None

    def questionnaire(self, survey_id: str, org: str, role: str | None, lang: str) -> Questionnaire:
        """The survey as this group meets it (cached: questionnaires are immutable)."""
        key = (survey_id, org, role, lang)
        q = self._questionnaires.get(key)
        if q is None:
            q = Questionnaire(
                self.registry[survey_id], Respondent(org, role, lang, self.config.partners())
            )
            self._questionnaires[key] = q
        return q

    async def wave(self, wave_id: int) -> Wave:
        """A wave, cached while open (a closed wave is re-read so its status is current)."""
        wave = self._waves.get(wave_id)
        if wave is None:
            assert self.store is not None
            wave = await self.store.wave(wave_id)
            if wave.is_open:
                self._waves[wave_id] = wave
        return wave

    def forget_wave(self, wave_id: int) -> None:
        self._waves.pop(wave_id, None)


class TrustscanContext(
    CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """CallbackContext with typed access to the services.

    The bot is an `ExtBot[int]` with the rate limiter and an `ExtBot[None]` without it
    (tests and benchmarks): `ExtBot[Any]`.
    """

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]  # an untyped dict
        return services

    @property
    def jobs(self) -> JobQueue[TrustscanContext] | None:
        """`job_queue`, typed for jobs that take this context.

        python-telegram-bot annotates `job_queue` as `JobQueue[ST]` with a type variable
        bound to nothing, so no callback matches it; the application is built with this
        context (`ContextTypes(context=TrustscanContext)`), so its jobs receive one.
        """
        return cast("JobQueue[TrustscanContext] | None", super().job_queue)

    @property
    def store(self) -> Store:
        store = self.services.store
        assert store is not None, "the store opens in post_init"
        return store

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def operations(self) -> Operations:
        """The facilitator's use cases (validated, audited) over the bot's store."""
        services = self.services
        return Operations(self.config, self.store, services.registry, services.clock)


TrustscanApp = Application[Any, TrustscanContext, Any, Any, Any, Any]
