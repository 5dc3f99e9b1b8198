"""Which language to speak to the person behind an update."""

from __future__ import annotations

from telegram import Update

from surveys.i18n import LANGUAGES, language_of
from surveys.store import Session

from .context import TrustscanContext


def user_lang(update: Update, context: TrustscanContext, session: Session | None = None) -> str:
    """The person's language: chosen in the session, chosen by /language, or Telegram's.

    Telegram's language code counts when the catalogue has that language ("de-AT" is
    German); otherwise the configured default.
    """
    if session is not None and session.lang:
        return session.lang
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    if chosen in LANGUAGES:
        return str(chosen)
    code = update.effective_user.language_code if update.effective_user else None
    return language_of(code) or context.config.default_language
