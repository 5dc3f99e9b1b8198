"""Short, friendly texts for rejected answers, shared by all adapters.

The words live in the catalogue under `hints.<code>` (see `surveys.i18n`); an
`AnswerError` code without a hint there is an error, not a quiet generic message.
"""

from __future__ import annotations

from .errors import AnswerError
from .i18n import t


def hint(error: AnswerError, lang: str) -> str:
    return t(f"hints.{error.code}", lang, **error.params)
