"""Configuration: read once from TOML (or embedded defaults), overridden by the environment.

`load_config` returns a frozen `Config` that is passed explicitly; there is no global
settings object. A bad value raises `ConfigError` naming the key and the problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveys.clock import DEFAULT_TIMEZONE
from surveys.engine import Partner
from surveys.i18n import DEFAULT_LANGUAGE as CATALOGUE_DEFAULT
from surveys.i18n import text_of
from surveys.model import LANGS, Survey, Text

DEFAULT_DATABASE = "trustscan.db"
DEFAULT_KEY_FILE = "trustscan.key"
DEFAULT_MIN_GROUP_SIZE = 5
MIN_GROUP_SIZE_FLOOR = 3
DEFAULT_MIN_GROUP_SIZE_COMMENTS = 10
DEFAULT_BOT_USERNAME = "TrustscanDemoBot"
DEFAULT_LANGUAGE = CATALOGUE_DEFAULT
DEFAULT_PARTNERSHIP = "Samenwerkingsverband Demo"
DEFAULT_REMINDER_DAYS = (3, 1)
DEFAULT_REMINDER_HOUR = 10
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")

ENV_CONFIG = "TRUSTSCAN_CONFIG"
ENV_TOKEN = "TRUSTSCAN_TOKEN"
ENV_DATABASE = "TRUSTSCAN_DATABASE"
ENV_API_BASE_URL = "TRUSTSCAN_API_BASE_URL"
ENV_KEY = "TRUSTSCAN_KEY"


class ConfigError(Exception):
    """The configuration is invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    headcount: int | None = None
    role_headcounts: tuple[tuple[str, int], ...] = ()  # (role id, people in that role)

    def role_headcount(self, role_id: str | None) -> int | None:
        """How many people of this organisation have the role, if the config says."""
        return next((n for r, n in self.role_headcounts if r == role_id), None)


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    label: Text  # in every language a configured survey is offered in (`check_role_labels`)
    # A restricted role identifies few people (council, administrators): it is never
    # offered as a button, only claimed through a link that fixes it.
    restricted: bool = False

    def name(self, lang: str) -> str:
        """The label in `lang`, or else in the label's first language.

        A respondent is asked in a survey's language, which the label always has. A
        facilitator may use a language no survey is offered in; the role's name is then
        shown in the label's first language (one explicit rule, like
        `Survey.language_for`), never an error in the middle of a reply.
        """
        return self.label.get(lang if lang in self.label else self.label.languages[0])


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str | None = None
    api_base_url: str | None = None
    bot_username: str = DEFAULT_BOT_USERNAME
    facilitators: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    days_before_close: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    hour: int = DEFAULT_REMINDER_HOUR  # local hour, in the partnership's time zone


DEMO_ORGANISATIONS = (
    Organisation("dijkhoven", "Dijkhoven", 420, (("administrator", 6), ("council", 29))),
    Organisation("veenstede", "Veenstede", 260, (("administrator", 5), ("council", 25))),
    Organisation("brugwoude", "Brugwoude", 180, (("administrator", 5), ("council", 21))),
    Organisation("lindermeer", "Lindermeer", 95, (("administrator", 4), ("council", 17))),
)
# the labels come from the catalogue (`roles.<id>`), so they exist in every language
DEMO_ROLES = (
    Role("staff", text_of("roles.staff")),
    Role("manager", text_of("roles.manager")),
    Role("administrator", text_of("roles.administrator"), restricted=True),
    Role("council", text_of("roles.council"), restricted=True),
)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything trustscan needs to run, resolved and validated."""

    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: Path = Path(DEFAULT_DATABASE)
    key_file: Path = Path(DEFAULT_KEY_FILE)
    master_key: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    min_group_size_comments: int = DEFAULT_MIN_GROUP_SIZE_COMMENTS
    partnership: str = DEFAULT_PARTNERSHIP
    # the one clock's zone: closing dates, reminders and the nightly rebuild are local days
    timezone: str = DEFAULT_TIMEZONE
    default_language: str = DEFAULT_LANGUAGE
    organisations: tuple[Organisation, ...] = DEMO_ORGANISATIONS
    roles: tuple[Role, ...] = DEMO_ROLES
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    survey_paths: tuple[Path, ...] = ()
    source: Path | None = None

    def organisation(self, org_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == org_id), None)

    def role(self, role_id: str | None) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def open_roles(self) -> tuple[Role, ...]:
        """The roles a link that fixes none may offer: every role that is not restricted."""
        return tuple(r for r in self.roles if not r.restricted)

    def restricted_roles(self) -> tuple[Role, ...]:
        """The roles that can only be claimed through a link that fixes them."""
        return tuple(r for r in self.roles if r.restricted)

    def partners(self) -> tuple[Partner, ...]:
        return tuple(Partner(o.id, o.name) for o in self.organisations)


class _Reader:
    """Typed access to the raw TOML that names the key in every error."""

    def __init__(self, raw: Mapping[str, Any], source: str) -> None:
        self.raw = raw
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        default: Any,
        name: str | None = None,
    ) -> Any:
        value = table.get(key, default)
        if value is default:
            return default
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            raise self.fail(
                name or key, f"must be {' or '.join(k.__name__ for k in kinds)}, got {value!r}"
            )
        return value


KNOWN = {
    "": {
        "telegram",
        "database",
        "privacy",
        "partnership",
        "organisations",
        "roles",
        "reminders",
        "surveys",
    },
    "telegram": {"token", "api_base_url", "bot_username", "facilitators"},
    "database": {"path", "key_file"},
    "privacy": {"min_group_size", "min_group_size_comments"},
    "partnership": {"name", "default_language", "timezone"},
    # reminders.timezone: where the time zone lived before it became the partnership's
    "reminders": {"days_before_close", "hour", "timezone"},
    "surveys": {"paths"},
}


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read `path` (or $TRUSTSCAN_CONFIG, or nothing: embedded defaults) plus the environment."""
    env = os.environ if env is None else env
    path = path or env.get(ENV_CONFIG) or None
    raw: dict[str, Any] = {}
    base = Path.cwd()
    source = "embedded defaults"
    if path is not None:
        path = Path(path)
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: config file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: TOML syntax error: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {_unreadable(exc)}") from exc
        base = path.parent.resolve()
    return _build(_Reader(raw, source), base, path, env)


def _unreadable(exc: OSError | UnicodeDecodeError) -> str:
    """Why a config file could not be read, and what to do, in one clause."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"not a UTF-8 text file (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
            "give the path of the .toml config, saved as UTF-8"
        )
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a config file; give the path of the .toml file in it"
    if isinstance(exc, PermissionError):
        return (
            "cannot be read by this user (permission denied); make it readable or run as its owner"
        )
    return f"cannot be read ({exc.strerror or type(exc).__name__}); check the path"


def _build(r: _Reader, base: Path, path: Path | None, env: Mapping[str, str]) -> Config:
    """Read every key of the config in the order `config.example.toml` documents them.

    Long on purpose: one checked read per key, each naming the key in its error, in the
    order of the example file, so the two can be compared line by line.
    """
    for table, keys in KNOWN.items():
        section = r.raw if table == "" else r.table(table)
        for key in sorted(set(section) - keys):
            raise r.fail(f"{table}.{key}" if table else key, "unknown key")

    tg = r.table("telegram")
    facilitators = r.get(tg, "facilitators", list, [], "telegram.facilitators")
    if not all(isinstance(f, int) and not isinstance(f, bool) for f in facilitators):
        raise r.fail("telegram.facilitators", "must be a list of numeric Telegram user ids")
    telegram = TelegramConfig(
        token=env.get(ENV_TOKEN) or r.get(tg, "token", str, None, "telegram.token") or None,
        api_base_url=env.get(ENV_API_BASE_URL)
        or r.get(tg, "api_base_url", str, None, "telegram.api_base_url")
        or None,
        bot_username=r.get(
            tg, "bot_username", str, DEFAULT_BOT_USERNAME, "telegram.bot_username"
        ).lstrip("@"),
        facilitators=frozenset(facilitators),
    )

    db = r.table("database")
    database = Path(
        env.get(ENV_DATABASE) or r.get(db, "path", str, DEFAULT_DATABASE, "database.path")
    )
    key_file = Path(r.get(db, "key_file", str, DEFAULT_KEY_FILE, "database.key_file"))

    privacy = r.table("privacy")
    k = r.get(privacy, "min_group_size", int, DEFAULT_MIN_GROUP_SIZE, "privacy.min_group_size")
    if k < MIN_GROUP_SIZE_FLOOR:
        raise r.fail(
            "privacy.min_group_size",
            f"must be at least {MIN_GROUP_SIZE_FLOOR} (got {k}): smaller groups "
            "would let people recognise each other's answers",
        )
    k_comments = r.get(
        privacy,
        "min_group_size_comments",
        int,
        DEFAULT_MIN_GROUP_SIZE_COMMENTS,
        "privacy.min_group_size_comments",
    )
    if k_comments < k:
        raise r.fail(
            "privacy.min_group_size_comments",
            f"must be at least min_group_size ({k}), got {k_comments}",
        )

    partnership = r.table("partnership")
    language = r.get(
        partnership, "default_language", str, DEFAULT_LANGUAGE, "partnership.default_language"
    )
    if language not in LANGS:
        raise r.fail(
            "partnership.default_language", f"must be one of {', '.join(LANGS)}, got {language!r}"
        )

    roles = _roles(r) if "roles" in r.raw else DEMO_ROLES
    organisations = (
        _organisations(r, [x.id for x in roles]) if "organisations" in r.raw else DEMO_ORGANISATIONS
    )

    rem = r.table("reminders")
    days = r.get(
        rem, "days_before_close", list, list(DEFAULT_REMINDER_DAYS), "reminders.days_before_close"
    )
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d < 60 for d in days):
        raise r.fail("reminders.days_before_close", "must be a list of days between 1 and 59")
    hour = r.get(rem, "hour", int, DEFAULT_REMINDER_HOUR, "reminders.hour")
    if not 0 <= hour <= 23:
        raise r.fail("reminders.hour", f"must be an hour from 0 to 23, got {hour}")
    zone_key = "partnership.timezone" if "timezone" in partnership else "reminders.timezone"
    zone_table = partnership if "timezone" in partnership else rem
    timezone = r.get(zone_table, "timezone", str, DEFAULT_TIMEZONE, zone_key)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception as exc:
        raise r.fail(zone_key, f"unknown time zone {timezone!r}") from exc

    paths = r.get(r.table("surveys"), "paths", list, [], "surveys.paths")
    if not all(isinstance(p, str) for p in paths):
        raise r.fail("surveys.paths", "must be a list of file or folder paths")

    return Config(
        telegram=telegram,
        database=_resolve(base, database),
        key_file=_resolve(base, key_file),
        master_key=env.get(ENV_KEY) or None,
        min_group_size=k,
        min_group_size_comments=k_comments,
        partnership=r.get(partnership, "name", str, DEFAULT_PARTNERSHIP, "partnership.name"),
        timezone=timezone,
        default_language=language,
        organisations=organisations,
        roles=roles,
        reminders=ReminderConfig(tuple(sorted(set(days), reverse=True)), hour),
        survey_paths=tuple(_resolve(base, Path(p)) for p in paths),
        source=path,
    )


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def _organisations(r: _Reader, role_ids: list[str]) -> tuple[Organisation, ...]:
    raw = r.raw["organisations"]
    if not isinstance(raw, list) or len(raw) < 1:
        raise r.fail("organisations", "must be a non-empty array of tables ([[organisations]])")
    orgs: list[Organisation] = []
    for i, item in enumerate(raw):
        key = f"organisations[{i}]"
        if not isinstance(item, dict):
            raise r.fail(key, "must be a table with id and name")
        for extra in sorted(set(item) - {"id", "name", "headcount", "role_headcounts"}):
            raise r.fail(f"{key}.{extra}", "unknown key")
        org_id = r.get(item, "id", str, None, f"{key}.id")
        if org_id is None or not ID_RE.match(org_id):
            raise r.fail(
                f"{key}.id", "needs an id of lowercase letters, digits, - or _ (max 24 characters)"
            )
        if any(o.id == org_id for o in orgs):
            raise r.fail(f"{key}.id", f"duplicate organisation id '{org_id}'")
        name = r.get(item, "name", str, org_id, f"{key}.name")
        headcount = r.get(item, "headcount", int, None, f"{key}.headcount")
        if headcount is not None and headcount <= 0:
            raise r.fail(f"{key}.headcount", f"must be a positive number, got {headcount}")
        orgs.append(Organisation(org_id, name, headcount, _role_headcounts(r, item, key, role_ids)))
    return tuple(orgs)


def _role_headcounts(
    r: _Reader, item: Mapping[str, Any], key: str, role_ids: list[str]
) -> tuple[tuple[str, int], ...]:
    """`role_headcounts = { council = 25, administrator = 6 }`: people per role."""
    raw = r.get(item, "role_headcounts", dict, {}, f"{key}.role_headcounts")
    counts = []
    for role_id, value in raw.items():
        name = f"{key}.role_headcounts.{role_id}"
        if role_id not in role_ids:
            raise r.fail(name, f"unknown role (known: {', '.join(role_ids)})")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise r.fail(name, f"must be a positive number, got {value!r}")
        counts.append((role_id, value))
    return tuple(counts)


def _roles(r: _Reader) -> tuple[Role, ...]:
    raw = r.raw["roles"]
    if not isinstance(raw, list) or not raw:
        raise r.fail("roles", "must be a non-empty array of tables ([[roles]])")
    roles: list[Role] = []
    for i, item in enumerate(raw):
        key = f"roles[{i}]"
        if not isinstance(item, dict):
            raise r.fail(key, "must be a table with id and label")
        for extra in sorted(set(item) - {"id", "label", "restricted"}):
            raise r.fail(f"{key}.{extra}", "unknown key")
        role_id = r.get(item, "id", str, None, f"{key}.id")
        if role_id is None or not ID_RE.match(role_id):
            raise r.fail(f"{key}.id", "needs an id of lowercase letters, digits, - or _")
        if any(x.id == role_id for x in roles):
            raise r.fail(f"{key}.id", f"duplicate role id '{role_id}'")
        restricted = r.get(item, "restricted", bool, False, f"{key}.restricted")
        roles.append(Role(role_id, _role_label(r, item.get("label"), f"{key}.label"), restricted))
    return tuple(roles)


def _role_label(r: _Reader, label: object, key: str) -> Text:
    """`label = { nl = "…", en = "…", de = "…" }`: the role's name per language.

    Any of the catalogue's languages; which ones it must have depends on the surveys
    (`check_role_labels`, once they are loaded), not on the catalogue, so a language
    added to the catalogue breaks no config.
    """
    shape = ", ".join(f'{lang} = "…"' for lang in LANGS)
    if not isinstance(label, dict) or not label:
        raise r.fail(key, f"must be a table {{ {shape} }}")
    unknown = sorted(set(label) - set(LANGS))
    if unknown:
        raise r.fail(key, f"unknown languages {unknown} (the catalogue has: {', '.join(LANGS)})")
    empty = [lang for lang in LANGS if lang in label and not _is_text(label[lang])]
    if empty:
        raise r.fail(key, f"the text in {', '.join(empty)} must be a non-empty string")
    return Text({lang: label[lang] for lang in LANGS if lang in label})


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def check_role_labels(config: Config, surveys: Iterable[Survey]) -> None:
    """Every role's label in every language one of the surveys is offered in.

    A respondent is asked their role in the survey's language, so a label lacking one
    is a `ConfigError` naming the role's key, the language and the surveys offered in
    it. Languages no survey offers need no label.
    """
    offered: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for survey in surveys:
        for lang in survey.languages:
            offered.setdefault(lang, []).append(survey.id)
    source = str(config.source) if config.source is not None else "embedded defaults"
    for i, role in enumerate(config.roles):
        missing = [lang for lang, ids in offered.items() if ids and lang not in role.label]
        if missing:
            needed = ", ".join(
                f"{lang} (surveys offered in it: {', '.join(sorted(offered[lang]))})"
                for lang in missing
            )
            raise ConfigError(f"{source}: roles[{i}].label: missing {needed}")
