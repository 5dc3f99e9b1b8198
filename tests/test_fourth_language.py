"""A fourth language in the catalogue breaks nothing that does not offer it.

The language is added the way a maintainer would: a row in `surveys/texts/languages.toml`
and its `<lang>.toml` (here a copy of the English one), in a copy of the packages. The
catalogue is read once at import, so the checks run in a fresh interpreter over that copy
(`tests/support/fourth_language.py`) and this test judges what it reports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from surveys.i18n import t

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("surveys", "analysis", "trustscan", "bot")
FRISIAN = '\n[fy]\nname = "Frysk"\ndecimal = ","\nthousands = "."\ndate = "%d-%m-%Y"\n'


def test_a_fourth_catalogue_language_breaks_no_survey_config_or_language_choice(
    tmp_path: Path,
) -> None:
    """Built-ins, the default and example configs and /language work as with three.

    Only a survey offered in the new language asks for role labels in it, naming the key.
    """
    code = tmp_path / "code"
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    texts = code / "surveys" / "texts"
    with (texts / "languages.toml").open("a", encoding="utf-8") as catalogue:
        catalogue.write(FRISIAN)
    shutil.copy(texts / "en.toml", texts / "fy.toml")
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(ROOT)])}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.fourth_language",
            str(ROOT / "config.example.toml"),
            str(work),
            "fy",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["languages"] == ["nl", "en", "de", "fy"]
    assert found["surveys"].startswith(str(code))  # the copy, not this checkout
    assert found["builtins"] == {s: ["nl", "en", "de"] for s in ("culture", "evaluation", "trust")}
    assert found["defaults"] == found["example"] == ["culture", "evaluation", "trust"]
    assert found["offered"] == "roles[0].label: missing fy (surveys offered in it: new)"
    bot = found["bot"]
    assert bot["buttons"] == [
        ["Nederlands", "g:nl"],
        ["English", "g:en"],
        ["Deutsch", "g:de"],
        ["Frysk", "g:fy"],
    ]
    assert bot["nl"] and bot["en"] and bot["de"] and bot["fy"]
    invite = "\n".join(bot["invite"])
    assert "Bestuurder (wethouder, burgemeester)" in invite  # no Frisian label: the first one
    assert t("facilitator.restricted_links", "en", roles="X").split("X")[0].strip() in invite
