"""Run in a copy of the packages whose catalogue has a fourth language: what still works.

`tests/surveys/test_fourth_language.py` copies the source packages, adds a language to
`surveys/texts/` the way a maintainer would (a row in `languages.toml`, a `<lang>.toml`)
and runs this module there in a fresh interpreter, since the catalogue is read once at
import. It prints one JSON object: what the checks found, for the test to judge.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from telegram import Update

import surveys
from bot.app import build_application
from surveys.i18n import LANGUAGES, t
from surveys.loader import builtin_paths, load_surveys
from tests.support.recording import RecordingTelegram, message, press
from trustscan.config import ConfigError, load_config
from trustscan.services import load_registry

FACILITATOR, RESPONDENT = 4242, 5_555_000_111
KEY = "34" * 32


def registries(example: Path) -> dict[str, Any]:
    """The built-ins, and the registry of the embedded defaults and of the example config."""
    found: dict[str, Any] = {}
    builtins = load_surveys(builtin_paths(), ["staff", "manager", "administrator", "council"])
    found["builtins"] = {s.id: list(s.languages) for s in builtins.values()}
    found["defaults"] = sorted(load_registry(load_config(None, env={})))
    found["example"] = sorted(load_registry(load_config(example, env={})))
    return found


def offered_in(language: str, example: Path, folder: Path) -> str:
    """A survey offered in the new language makes it required in the example's role labels."""
    texts = f'nl = "Vraag", {language} = "Fraach"'
    (folder / "new.toml").write_text(
        f'id = "new"\nlanguages = ["nl", "{language}"]\ntitle = {{ {texts} }}\n\n'
        f'[[questions]]\nid = "q"\ntype = "info"\ntext = {{ {texts} }}\n',
        encoding="utf-8",
    )
    config = example.read_text(encoding="utf-8").replace("paths = []", 'paths = ["new.toml"]')
    (folder / "config.toml").write_text(config, encoding="utf-8")
    try:
        load_registry(load_config(folder / "config.toml", env={}))
    except ConfigError as exc:
        return str(exc).split(": ", 1)[1]
    return ""


async def bot_languages(example: Path, folder: Path, language: str) -> dict[str, Any]:
    """/language, each press, and a facilitator speaking the new language.

    The example config's role labels are in nl, en and de: the facilitator's /invite
    names the restricted roles all the same.
    """
    text = example.read_text(encoding="utf-8")
    for old, new in [
        ('token = ""', 'token = "1:unit"'),
        ("facilitators = []", f"facilitators = [{FACILITATOR}]"),
        ('path = "trustscan.db"', 'path = "bot.db"'),
    ]:
        text = text.replace(old, new)
    (folder / "bot.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "bot.toml", env={"TRUSTSCAN_KEY": KEY})
    telegram = RecordingTelegram()
    app = build_application(config, request=telegram)
    await app.initialize()
    await app.post_init(app)
    if app.job_queue is not None:
        app.job_queue.scheduler.remove_all_jobs()
    update_id = 0

    async def run(update: dict[str, Any]) -> list[str]:
        before = len(telegram.calls)
        await app.process_update(Update.de_json(update, app.bot))
        return [c.text for c in telegram.calls[before:] if c.text]

    found: dict[str, Any] = {}
    try:
        update_id += 1
        await run(message(update_id, RESPONDENT, "/language"))
        found["buttons"] = telegram.calls[-1].buttons
        for lang in ["nl", "en", "de", language]:
            update_id += 1
            said = await run(press(update_id, RESPONDENT, f"g:{lang}"))
            update_id += 1
            said += await run(message(update_id, RESPONDENT, "/start"))
            found[lang] = said == [t("bot.language_set", lang), t("bot.no_token", lang)]
        update_id += 1
        await run(message(update_id, FACILITATOR, "/openwave trust", language))
        update_id += 1
        found["invite"] = await run(message(update_id, FACILITATOR, "/invite", language))
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
    return found


def main() -> None:
    example, folder, language = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    found: dict[str, Any] = {"languages": list(LANGUAGES), "surveys": surveys.__file__}
    found.update(registries(example))
    found["offered"] = offered_in(language, example, folder)
    found["bot"] = asyncio.run(bot_languages(example, folder, language))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
