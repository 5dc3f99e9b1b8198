"""Exceptions of the survey domain, rooted in one class so adapters can catch the package.

SurveyError
 ├── DefinitionError      a survey file is invalid (carries every problem at once)
 ├── AnswerError          an answer does not fit its question (carries a hint code)
 ├── TextError            a text key or language is not in the catalogue (or the survey)
 └── StoreError           the store refused an operation
      ├── UnknownWaveError
      ├── WaveClosedError
      ├── MasterKeyError   the master key is missing, malformed or does not open the file
      ├── UnlinkPendingError  saved, but the erased link still waits in the WAL
      ├── CodeRefusedError  a restricted role without a valid, unused single-use code
      └── StaleStepError   the answer was for a question that is no longer current
"""

from __future__ import annotations

from dataclasses import dataclass


class SurveyError(Exception):
    """Root of every error raised by the `surveys` package."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a definition file, with where it is."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.where}: {self.message}"
            if self.where
            else (f"{self.file}: {self.message}")
        )


class DefinitionError(SurveyError):
    """A survey definition is invalid; `problems` lists all of them, not just the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AnswerError(SurveyError):
    """An answer was rejected; `code` + `params` let each adapter phrase the hint itself."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}" if params else code)


class TextError(SurveyError, LookupError):
    """A text was asked for in a language (or under a key) that has none: never a fallback."""


class StoreError(SurveyError):
    """The store refused an operation."""


class UnknownWaveError(StoreError):
    """No wave with that id (or no open wave where one was needed)."""


class WaveClosedError(StoreError):
    """The wave is closed: nobody can start, answer or resume in it any more."""


class MasterKeyError(StoreError):
    """The master key is missing, unreadable, malformed or does not open the database."""


class UnlinkPendingError(StoreError):
    """The change is committed, but a reader keeps its erased link in the WAL for now.

    Nobody may be told "your answers can no longer be linked" on this error; the store
    keeps truncating the WAL in the background until it succeeds.
    """


class CodeRefusedError(StoreError):
    """A restricted role's response needs a single-use code that is known for its
    organisation and role, not used and not held by another response in progress.

    Which of these failed is not told apart: a person trying codes learns nothing about
    which codes exist.
    """


class StaleStepError(StoreError):
    """The respondent's position moved on (a double tap or an old message): nothing stored."""
