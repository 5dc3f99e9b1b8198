"""How long the bot waits before it tells someone, sends again or gives up, and how fast
it sends: in one place.

The defaults follow Telegram's own deadlines (a button press must be answered within
about 15 seconds), its flood limits (about 30 messages a second, one a second into a
chat) and docker's stop timeout (10 seconds). Tests pass other ones to
`build_application(timing=...)`: shorter waits, so a 20-second lock or a minute's outage
plays out in a second with the same code paths, and `Timing.scaled` for a whole world
that runs faster, Telegram's pace included, where the test is about the pace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Budget:
    """Telegram's limits as the outbox keeps them: a little under the real ones."""

    per_second: float = 29.0
    burst: float = 20.0
    per_chat_second: float = 1.0  # new messages into one chat (edits are not counted)
    per_chat_burst: float = 3.0

    def scaled(self, factor: float) -> Budget:
        """The same limits in a world where a second lasts `factor` seconds (rates ÷ factor)."""
        return dataclasses.replace(
            self,
            per_second=self.per_second / factor,
            per_chat_second=self.per_chat_second / factor,
        )


@dataclass(frozen=True, slots=True)
class Timing:
    """The bot's waits, in seconds, and its pace."""

    patience: float = 5.0
    """A press still being handled after this long is answered with "one moment", well
    within Telegram's deadline, so the button stops spinning; the next question follows."""

    queued: float = 5.0
    """A press whose next screen would wait this long behind the replies queued for
    others (Telegram's 30 messages a second, shared by everyone) is answered with the
    same "one moment" at once, not left silent until its turn comes."""

    query_deadline: float = 15.0
    """Telegram's deadline for answering a press; answering is not retried beyond it."""

    retry_first: float = 0.5
    """The first pause before a message that met a connection error, a time-out or a
    server error is sent again; each further pause doubles ..."""

    retry_most: float = 10.0
    """... up to this, and the message is tried again as long as the bot runs."""

    stop_grace: float = 3.0
    """On SIGTERM or SIGINT, replies still waiting get this long to go out; broadcasts
    are not waited for (they stay due). The whole stop stays within 5 seconds."""

    start_first: float = 1.0
    """At start-up, the first pause before Telegram is asked again when it cannot be
    reached; each further pause doubles ..."""

    start_most: float = 60.0
    """... up to this: a bot started before the network is up comes up with it."""

    budget: Budget = Budget()
    """The pace of sending: Telegram's flood limits, kept a little under (`outbox`)."""

    flood_second: float = 1.0
    """How long one second of a flood control's "retry after" lasts: 1 with Telegram;
    a world run faster by `scaled` counts its own seconds, as its fake Telegram does."""

    def scaled(self, factor: float) -> Timing:
        """Every wait times `factor` and the pace divided by it: the same world, faster.

        The order of events and every count per (scaled) second stay as they were, so a
        test about the pace checks the same things in a fraction of the time; a fake
        Telegram's flood limits and deadline must be scaled by the same factor.
        """
        return Timing(
            patience=self.patience * factor,
            queued=self.queued * factor,
            query_deadline=self.query_deadline * factor,
            retry_first=self.retry_first * factor,
            retry_most=self.retry_most * factor,
            stop_grace=self.stop_grace * factor,
            start_first=self.start_first * factor,
            start_most=self.start_most * factor,
            budget=self.budget.scaled(factor),
            flood_second=self.flood_second * factor,
        )
