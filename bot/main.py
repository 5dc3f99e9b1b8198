"""The `trustscan` console command: the CLI of `trustscan.cli` with the bot plugged in.

The application package never imports the Telegram adapter; this outermost module
composes the two, so `trustscan run` can start the bot.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from trustscan import cli
from trustscan.config import Config


def run_bot(config: Config, args: argparse.Namespace) -> None:
    """`trustscan run`: the bot, by long polling or behind a webhook."""
    from telegram.error import InvalidToken

    from .app import BAD_TOKEN, BadTokenError, NoTokenError, run
    from .webhook import UnsafeWebhookError

    try:
        run(
            config,
            webhook_url=args.webhook_url,
            listen=args.listen,
            port=args.port,
            secret_token=args.secret_token,
            insecure_loopback=args.insecure_loopback,
        )
    except (NoTokenError, BadTokenError, UnsafeWebhookError) as exc:
        raise cli.UsageError(str(exc)) from None
    except InvalidToken:  # revoked while running; its message repeats the token
        raise cli.UsageError(BAD_TOKEN) from None


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, runner=run_bot)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
