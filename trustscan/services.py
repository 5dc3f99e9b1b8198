"""Open what every command needs from a `Config`: the survey registry and the store."""

from __future__ import annotations

from pathlib import Path

from surveys import cipher
from surveys.keys import database_key, load_or_create_key
from surveys.loader import builtin_paths, load_surveys
from surveys.model import Survey
from surveys.store import RoleRow, Store

from .clock import Clock, partnership_clock
from .config import Config, check_role_labels


def survey_files(config: Config) -> list[Path]:
    """Built-in instruments plus the files (or folders of files) named in the config."""
    files = list(builtin_paths())
    for path in config.survey_paths:
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


def load_registry(config: Config) -> dict[str, Survey]:
    """Every survey by id; a user file with a built-in's id replaces the built-in.

    The config's role labels are checked here, against the languages these surveys are
    offered in (`check_role_labels`): only now are those known.
    """
    roles = [r.id for r in config.roles]
    builtins = builtin_paths()
    own = load_surveys([p for p in survey_files(config) if p not in builtins], roles)
    # a replaced built-in is not even loaded: it may ask roles this partnership lacks
    registry = load_surveys([p for p in builtins if p.stem not in own], roles) | own
    check_role_labels(config, registry.values())
    return registry


async def open_store(config: Config, clock: Clock | None = None) -> Store:
    """Open the database with the master key and make its partnership match the config.

    `clock` is the partnership's one clock (the bot's, or a test's); by default the
    machine's time in the configured time zone.
    """
    key = load_or_create_key(config.key_file, config.master_key)
    store = await Store.open(
        config.database,
        key,
        clock=clock or partnership_clock(config),
        min_group_size=config.min_group_size,
    )
    await store.sync_partnership(
        [(o.id, o.name, o.headcount) for o in config.organisations],
        [RoleRow(r.id, dict(r.label.items()), r.restricted) for r in config.roles],
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
