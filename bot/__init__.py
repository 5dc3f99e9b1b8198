"""The Telegram adapter and the `trustscan` command line."""

import os

# Opt in to python-telegram-bot's future timedelta durations now (retry_after and friends),
# so its deprecation warning never fires in production logs or in the warnings-as-errors tests.
os.environ.setdefault("PTB_TIMEDELTA", "1")
