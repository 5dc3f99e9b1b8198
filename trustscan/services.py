"""Open what every command needs from a `Config`: the survey registry and the store."""

from __future__ import annotations

from pathlib import Path

from surveys import cipher
from surveys.keys import database_key, load_or_create_key
from surveys.loader import builtin_paths, load_surveys
from surveys.model import Survey
from surveys.store import RoleRow, Store

from .config import Config


def survey_files(config: Config) -> list[Path]:
    """Built-in instruments plus the files (or folders of files) named in the config."""
    files = list(builtin_paths())
    for path in config.survey_paths:
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


def load_registry(config: Config) -> dict[str, Survey]:
    """Every survey by id; a user file with a built-in's id replaces the built-in."""
    builtins = set(builtin_paths())
    extra = [p for p in survey_files(config) if p not in builtins]
    registry = load_surveys(builtins, [r.id for r in config.roles])
    registry.update(load_surveys(extra, [r.id for r in config.roles]))
    return registry


async def open_store(config: Config) -> Store:
    """Open the database with the master key and make its partnership match the config."""
    key = load_or_create_key(config.key_file, config.master_key)
    store = await Store.open(config.database, key)
    await store.sync_partnership(
        [(o.id, o.name, o.headcount) for o in config.organisations],
        [RoleRow(r.id, dict(r.label.items())) for r in config.roles],
    )
    return store


def check_master_key(config: Config) -> None:
    """Refuse, in one sentence, a master key that does not open the existing database.

    `trustscan run` checks this before it starts anything (an event loop, the Telegram
    library): the refusal is then the only thing it prints (`MasterKeyError`).
    """
    path = config.database
    if not path.is_file() or cipher.is_plaintext(path):
        return  # a new database, or an old plaintext one the store encrypts on opening
    key = load_or_create_key(config.key_file, config.master_key)
    cipher.connect(path, database_key(key)).close()
