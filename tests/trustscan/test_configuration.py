"""Configuration: embedded defaults, every key read, environment overrides, named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustscan.config import ConfigError, load_config
from trustscan.services import load_registry

ROOT = Path(__file__).resolve().parents[2]

FULL = """
[telegram]
token = "file-token"
api_base_url = "http://localhost:8081/bot"
bot_username = "@PartnerScanBot"
facilitators = [11, 22]

[database]
path = "data/scan.db"
key_file = "secret/scan.key"

[privacy]
min_group_size = 6
min_group_size_comments = 12

[partnership]
name = "Regio West"
default_language = "en"
timezone = "Europe/Brussels"

[[organisations]]
id = "alpha"
name = "Alpha"
headcount = 100
role_headcounts = { council = 12 }

[[organisations]]
id = "beta"
name = "Beta"

[[roles]]
id = "staff"
label = { nl = "Medewerker", en = "Staff", de = "Personal" }

[[roles]]
id = "council"
label = { nl = "Raadslid", en = "Council member", de = "Ratsmitglied" }
restricted = true

[reminders]
days_before_close = [1, 5]
hour = 9

[surveys]
paths = ["mine"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_gives_the_demo_partnership(tmp_path: Path, monkeypatch) -> None:
    """Without a file: four demo municipalities, four roles, k = 5, db in the cwd."""
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert [o.id for o in config.organisations] == [
        "dijkhoven",
        "veenstede",
        "brugwoude",
        "lindermeer",
    ]
    assert [r.id for r in config.roles] == ["staff", "manager", "administrator", "council"]
    assert [r.id for r in config.restricted_roles()] == ["administrator", "council"]
    assert (config.min_group_size, config.min_group_size_comments) == (5, 10)
    assert config.database == tmp_path / "trustscan.db"
    assert config.telegram.token is None


def test_every_key_is_read_and_paths_resolve_next_to_the_file(tmp_path: Path) -> None:
    """A full config file is read key by key; relative paths are relative to the file."""
    config = load_config(write(tmp_path, FULL), env={})
    assert config.telegram.token == "file-token"
    assert config.telegram.api_base_url == "http://localhost:8081/bot"
    assert config.telegram.bot_username == "PartnerScanBot"
    assert config.telegram.facilitators == frozenset({11, 22})
    assert config.database == tmp_path / "data" / "scan.db"
    assert config.key_file == tmp_path / "secret" / "scan.key"
    assert (config.min_group_size, config.min_group_size_comments) == (6, 12)
    assert (config.partnership, config.default_language) == ("Regio West", "en")
    assert [(o.id, o.headcount) for o in config.organisations] == [("alpha", 100), ("beta", None)]
    assert config.roles[0].label.en == "Staff"
    assert config.roles[0].label.get("de") == "Personal"
    assert [(r.id, r.restricted) for r in config.roles] == [("staff", False), ("council", True)]
    assert [r.id for r in config.open_roles()] == ["staff"]
    assert [r.id for r in config.restricted_roles()] == ["council"]
    assert config.organisations[0].role_headcounts == (("council", 12),)
    assert config.organisations[0].role_headcount("council") == 12
    assert config.organisations[1].role_headcount("council") is None
    assert config.reminders.days_before_close == (5, 1)
    assert (config.reminders.hour, config.timezone) == (9, "Europe/Brussels")
    assert config.survey_paths == (tmp_path / "mine",)


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    """TRUSTSCAN_* variables win over the file, and TRUSTSCAN_CONFIG names the file."""
    path = write(tmp_path, FULL)
    config = load_config(
        None,
        env={
            "TRUSTSCAN_CONFIG": str(path),
            "TRUSTSCAN_TOKEN": "env-token",
            "TRUSTSCAN_DATABASE": "/srv/scan.db",
            "TRUSTSCAN_API_BASE_URL": "http://fake/bot",
            "TRUSTSCAN_KEY": "ab" * 32,
        },
    )
    assert config.source == path
    assert config.telegram.token == "env-token"
    assert config.database == Path("/srv/scan.db")
    assert config.telegram.api_base_url == "http://fake/bot"
    assert config.master_key == "ab" * 32


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("min_group_size = 6", "min_group_size = 2"), "privacy.min_group_size"),
        (
            ("min_group_size_comments = 12", "min_group_size_comments = 4"),
            "privacy.min_group_size_comments",
        ),
        (("min_group_size = 6", "min_group_sise = 6"), "privacy.min_group_sise: unknown key"),
        (("facilitators = [11, 22]", 'facilitators = "abc"'), "telegram.facilitators"),
        (('id = "beta"', 'id = "alpha"'), "organisations[1].id"),
        (('default_language = "en"', 'default_language = "fr"'), "partnership.default_language"),
        (('timezone = "Europe/Brussels"', 'timezone = "Mars/Olympus"'), "partnership.timezone"),
        (("hour = 9", "hour = 25"), "reminders.hour"),
        (("headcount = 100", "headcount = -3"), "organisations[0].headcount"),
        (("restricted = true", 'restricted = "yes"'), "roles[1].restricted"),
        ((', de = "Personal"', ', fr = "Personnel"'), "roles[0].label: unknown languages"),
        ((', de = "Personal"', ', de = "Personal", fr = "X"'), "roles[0].label: unknown languages"),
        (('de = "Personal"', 'de = " "'), "roles[0].label: the text in de must be a non-empty"),
        (('label = { nl = "Medewerker"', "label = { } #"), "roles[0].label: must be a table"),
        (("council = 12", "council = 0"), "organisations[0].role_headcounts.council"),
        (("council = 12", 'council = "12"'), "organisations[0].role_headcounts.council"),
        (("council = 12", "mayor = 1"), "organisations[0].role_headcounts.mayor: unknown role"),
        (("role_headcounts = {", "role_headcounts = 3 #"), "organisations[0].role_headcounts"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    """Every invalid value is reported with the file and the key."""
    path = write(tmp_path, FULL.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(str(path)) and key in str(info.value)


def test_syntax_errors_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    """A TOML error names its line; a missing file says so."""
    with pytest.raises(ConfigError, match="line 2"):
        load_config(write(tmp_path, "[telegram]\ntoken = \n"), env={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", env={})


def test_the_time_zone_of_an_older_config_still_counts(tmp_path: Path) -> None:
    """A config that names its time zone under [reminders], as before, keeps that zone;
    without any, the partnership lives in Amsterdam's."""
    old = load_config(write(tmp_path, '[reminders]\ntimezone = "Europe/Lisbon"\n'), env={})
    assert old.timezone == "Europe/Lisbon"
    assert load_config(write(tmp_path, ""), env={}).timezone == "Europe/Amsterdam"
    with pytest.raises(ConfigError, match=r"reminders\.timezone"):
        load_config(write(tmp_path, '[reminders]\ntimezone = "Nowhere/Else"\n'), env={})


def minimal_survey(folder: Path, survey_id: str, languages: list[str]) -> Path:
    """A one-statement survey in `languages`, saved as `<id>.toml` in `folder`."""
    texts = ", ".join(f'{lang} = "{survey_id} {lang}"' for lang in languages)
    path = folder / f"{survey_id}.toml"
    path.write_text(
        f'id = "{survey_id}"\nlanguages = {languages!r}\ntitle = {{ {texts} }}\n\n'
        f'[[questions]]\nid = "hello"\ntype = "info"\ntext = {{ {texts} }}\n'.replace("'", '"'),
        encoding="utf-8",
    )
    return path


def test_a_role_label_lacking_a_language_a_survey_is_offered_in_names_its_key(
    tmp_path: Path,
) -> None:
    """The built-ins are offered in German, so a label without German is refused, by key."""
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    path = write(tmp_path, example.replace(', de = "Mitarbeiter/in"', ""))
    config = load_config(path, env={})  # the config alone cannot tell: no survey is loaded
    assert config.roles[0].label.languages == ("nl", "en")
    with pytest.raises(ConfigError) as info:
        load_registry(config)
    assert str(info.value) == (
        f"{path}: roles[0].label: missing de (surveys offered in it: culture, evaluation, trust)"
    )


def test_role_labels_need_only_the_languages_the_surveys_are_offered_in(tmp_path: Path) -> None:
    """With every survey in Dutch and English, labels without German load and work.

    The built-ins are replaced by files of the same id written in nl and en only; the
    role's name in German (a facilitator's language no survey offers) is its Dutch one.
    One more survey offered in German makes German required again, naming that survey.
    """
    folder = tmp_path / "mine"
    folder.mkdir()
    for survey_id in ("trust", "culture", "evaluation"):
        minimal_survey(folder, survey_id, ["nl", "en"])
    text = FULL.replace(', de = "Personal"', "").replace(', de = "Ratsmitglied"', "")
    config = load_config(write(tmp_path, text), env={})
    registry = load_registry(config)
    assert {s.id: s.languages for s in registry.values()} == {
        "trust": ("nl", "en"),
        "culture": ("nl", "en"),
        "evaluation": ("nl", "en"),
    }
    staff = config.roles[0]
    assert [staff.name(lang) for lang in ("en", "nl", "de")] == [
        "Staff",
        "Medewerker",
        "Medewerker",
    ]

    minimal_survey(folder, "extra", ["nl", "de"])
    with pytest.raises(ConfigError) as info:
        load_registry(config)
    assert str(info.value).endswith("roles[0].label: missing de (surveys offered in it: extra)")


@pytest.mark.parametrize("path", [None, ROOT / "config.example.toml"], ids=["defaults", "example"])
def test_the_defaults_and_the_example_config_load_with_the_built_in_surveys(
    path: Path | None, tmp_path: Path, monkeypatch
) -> None:
    """The embedded defaults and config.example.toml load, role labels and surveys together."""
    monkeypatch.chdir(tmp_path)
    config = load_config(path, env={})
    registry = load_registry(config)
    assert set(registry) == {"trust", "culture", "evaluation"}
    assert [r.id for r in config.roles] == ["staff", "manager", "administrator", "council"]
    assert all(r.name(lang) for r in config.roles for lang in ("nl", "en", "de"))
