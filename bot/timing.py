"""How long the bot waits before it tells someone, sends again or gives up, and how fast
it sends: in one place.

The defaults follow Telegram's own deadlines (a button press must be answered within
about 15 seconds), its flood limits (about 30 messages a second, one a second into a
chat) and docker's stop timeout (10 seconds). Tests pass other ones to
`build_application(timing=...)`: shorter waits, so a 20-second lock or a minute's outage
plays out in a second with the same code paths, and `Timing.paced` where Telegram itself
runs faster (a test about the pace, against a fake Telegram with the same seconds).
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
    a Telegram run faster (`paced`) counts shorter ones, as its fake does."""

    def paced(self, factor: float) -> Timing:
        """This timing where Telegram's seconds last `factor` seconds: its pace (`budget`)
        divided by `factor` and a flood control's "retry after" counted in those seconds.

        The order of what is sent and every count per (such) second stay as they were, so
        a test about the pace checks the same things in a fraction of the time, against a
        fake Telegram whose flood limits are scaled alike. The other waits are not the
        pace (a person's patience, Telegram's deadline for a press, the stop's grace):
        they stay, so a busy machine does not turn every press into "one moment".
        """
        return dataclasses.replace(
            self, budget=self.budget.scaled(factor), flood_second=self.flood_second * factor
        )
