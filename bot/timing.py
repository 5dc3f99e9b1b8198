"""How long the bot waits before it tells someone, sends again or gives up: in one place.

The defaults follow Telegram's own deadlines (a button press must be answered within
about 15 seconds) and docker's stop timeout (10 seconds). Tests pass shorter ones to
`build_application(timing=...)`, so a 20-second lock or a minute's outage plays out in
a second with the same code paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """The bot's waits, in seconds."""

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
