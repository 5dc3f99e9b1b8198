"""The installed `trustscan` command: check, preview, wave, invite, backup, demo, run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.anonymity import keyed

from .command import KEY, Demo, assert_private, with_demo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = """
id = "sample"
languages = ["nl", "en"]
title = { nl = "Voorbeeld", en = "Sample" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["sd", "d", "n", "a", "sa"] }
dont_know = true

[[questions]]
id = "hello"
type = "info"
text = { nl = "Welkom", en = "Welcome" }

[[questions]]
id = "v1"
type = "likert"
scale = "agree5"
text = { nl = "Stelling", en = "Statement" }

[[questions]]
id = "pick"
type = "multi"
min = 1
max = 2
options = [{ value = "a", label = { nl = "A", en = "A" } },
           { value = "b", label = { nl = "B", en = "B" } },
           { value = "c", label = { nl = "C", en = "C" } }]
text = { nl = "Kies", en = "Pick" }

[[questions]]
id = "pp"
type = "likert"
scale = "agree5"
per_partner = true
text = { nl = "Vertrouw je {partner}?", en = "Do you trust {partner}?" }

[[questions]]
id = "alloc"
type = "allocate"
total = 100
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Verdeel", en = "Divide" }

[[questions]]
id = "why"
type = "text"
max_length = 30
text = { nl = "Waarom?", en = "Why?" }
"""


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.toml"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


def test_help_lists_every_command(run) -> None:
    """--help explains the tool and names all commands."""
    out = run("--help").stdout
    for command in ("check", "preview", "wave", "invite", "backup", "run", "demo"):
        assert command in out
    assert "embedded defaults" in out


def test_check_passes_builtins_and_names_problems_of_a_bad_file(run, tmp_path: Path) -> None:
    """check exits 0 for the built-ins and 1 with file/question/problem for a bad file."""
    ok = run("check")
    assert ok.returncode == 0 and "trust.toml" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SAMPLE.replace(
            'scale = "agree5"\ntext = { nl = "Stelling"',
            'scale = "agree9"\ntext = { nl = "Stelling"',
        ),
        encoding="utf-8",
    )
    result = run("check", str(bad))
    assert result.returncode == 1
    assert "bad.toml: questions[1] (id 'v1'): unknown scale 'agree9'" in result.stderr


def test_check_names_a_role_label_lacking_a_language_the_surveys_offer(run, tmp_path) -> None:
    """check of the configured surveys also checks the role labels against their languages."""
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(example.replace(', de = "Ratsmitglied"', ""), encoding="utf-8")
    result = run("check", "--config", str(config))
    assert result.returncode == 1
    assert f"trustscan: {config}: roles[3].label: missing de (surveys offered in it:" in (
        result.stderr
    )


def test_preview_with_piped_answers_handles_hints_back_skip_and_dont_know(run, sample) -> None:
    """Piped answers drive the engine: bad input re-prompts, b/s/? do what they say."""
    lines = ["", "9", "abc", "4", "b", "?", "1 3", "2", "5", "3", "60 30", "60 40", "x" * 40, "s"]
    result = run("preview", str(sample), "--lang", "en", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Choose a value from 1 to 5" in out  # "9"
    assert "Choose one of the options" in out  # "abc"
    assert out.count("Statement") >= 2  # shown again after b
    assert "current answer: 4" in out
    assert "The points must add up to exactly 100 (now 90)" in out
    assert "at most 30 characters" in out
    assert "v1: don't know" in out and "pick: a, c" in out and "alloc: 60, 40" in out
    assert "pp@veenstede: 2" in out and "pp@dijkhoven" not in out
    assert "why: (skipped)" in out


def test_preview_stops_cleanly_when_input_ends(run, sample) -> None:
    """Input ending early exits 1 with a clear message; nothing is stored."""
    result = run("preview", str(sample), stdin="\n4\n", lang="nl")
    assert result.returncode == 1
    assert "Invoer gestopt bij vraag" in result.stdout


def test_preview_of_a_builtin_in_dutch(run) -> None:
    """The built-in trust scan can be completed in the terminal with piped answers."""
    result = run(
        "preview",
        "trust",
        "--org",
        "brugwoude",
        "--role",
        "manager",
        stdin="\n".join(["3"] * 40 + [""] * 5 + ["s"]) + "\n",
        lang="nl",
    )
    assert result.returncode == 0, result.stdout[-500:]
    assert "Vraag 1 van" in result.stdout and "Klaar!" in result.stdout


def test_facilitator_lines_follow_the_language(run) -> None:
    """wave open/list speak the config's language by default, --lang on request."""
    dutch = run("wave", "open", "trust", "--name", "Voorjaar", lang="nl")
    assert dutch.returncode == 0 and "meting 1 'Voorjaar' (trust) is open" in dutch.stdout
    german = run("wave", "list", lang="de")
    assert "Messung 1  Voorjaar  [trust]  geöffnet" in german.stdout
    refused = run("wave", "close", "7", lang="nl")
    assert refused.returncode == 1 and "er is geen meting 7" in refused.stderr


def test_waves_invitations_and_backup(run, tmp_path: Path) -> None:
    """wave open/list/close, invite with QR codes and backup work on one database."""
    opened = run("wave", "open", "trust", "--name", "Voorjaar", "--closes", "2099-01-31")
    assert opened.returncode == 0 and "wave 1 'Voorjaar' (trust) is open" in opened.stdout
    listing = run("wave", "list").stdout
    assert "wave 1  Voorjaar  [trust]  open" in listing
    for org in ("dijkhoven", "veenstede", "brugwoude", "lindermeer"):
        assert org in listing
    first = run("invite", "--qr", "qr")
    assert first.returncode == 0
    links = [
        line.split()[-2] if line.endswith(")") else line.split()[-1]
        for line in first.stdout.splitlines()
    ]
    tokens = {link.split("start=")[1] for link in links}
    # per organisation: its own link and one per restricted role (administrator, council)
    assert len(tokens) == 4 * 3 and all(len(t) >= 22 for t in tokens)
    assert sum("/ council " in line for line in first.stdout.splitlines()) == 4
    assert "restricted roles" in first.stderr
    pngs = sorted((tmp_path / "qr").glob("*.png"))  # QR codes only for the organisation links
    assert len(pngs) == 4 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    again = run("invite").stdout
    assert {line.split("start=")[1].split()[0] for line in again.splitlines()} == tokens
    nonsense = run("wave", "open", "nonsense")
    assert nonsense.returncode == 1 and "available: " in nonsense.stderr
    backup = run("backup", "copy.db")
    assert backup.returncode == 0
    with keyed(tmp_path / "copy.db", bytes.fromhex(KEY)) as db:
        assert db.execute("SELECT name FROM waves").fetchall() == [("Voorjaar",)]
    assert run("backup", "copy.db").returncode == 1
    assert_private(tmp_path, "sample.toml", "c.toml")  # database, backup, QR codes
    closed = run("wave", "close", "1", "--yes")
    assert closed.returncode == 0 and "closed" in closed.stdout
    again_closed = run("wave", "close", "1", "--yes")
    assert again_closed.returncode == 1 and "already closed" in again_closed.stderr


def test_key_file_is_created_private_and_a_wrong_key_is_refused(run, tmp_path: Path) -> None:
    """Without TRUSTSCAN_KEY a 0600 key file appears; another key is refused loudly."""
    assert run("wave", "list", key=None).returncode == 0
    key_file = tmp_path / "trustscan.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    wrong = run("wave", "list", key="00" * 32)
    assert wrong.returncode == 1 and "does not open the database" in wrong.stderr
    bad = run("wave", "list", key="short")
    assert bad.returncode == 1 and "TRUSTSCAN_KEY" in bad.stderr


def test_a_bad_config_names_the_key(run, tmp_path: Path) -> None:
    """--config with a bad value exits 1 and names the key, before or after the command."""
    (tmp_path / "c.toml").write_text("[privacy]\nmin_group_size = 1\n", encoding="utf-8")
    for args in (("--config", "c.toml", "wave", "list"), ("wave", "list", "--config", "c.toml")):
        result = run(*args)
        assert result.returncode == 1 and "privacy.min_group_size" in result.stderr


def test_run_without_token_explains_what_to_do(run) -> None:
    """`trustscan run` without a token says how to set one and points to the demo."""
    result = run("run")
    assert result.returncode == 1
    assert "TRUSTSCAN_TOKEN" in result.stderr and "trustscan demo" in result.stderr


def test_demo_simulates_three_waves_and_writes_the_report(demo: Demo, tmp_path: Path) -> None:
    """The newcomer's first command: three measurements through the engine, then the report."""
    assert demo.returncode == 0, demo.stderr
    simulated = re.findall(r"^  .+: \d+ respondents$", demo.stdout, flags=re.M)
    assert len(simulated) == 9  # three surveys, three measurements each
    assert "Largest change in trust between partners: Veenstede in Brugwoude" in demo.stdout
    assert "Lindermeer" in demo.stdout.split("Culture scan:")[1]
    page = (demo.folder / "report.html").read_text(encoding="utf-8")
    assert page.count("<script>/**") == 1  # self-contained: plotly.js inlined once
    assert "minder dan 5" in page or "fewer than 5" in page  # small groups visibly hidden
    assert "n < 5" not in page and "n &lt; 5" not in page  # and say why, never 'n < k'
    with_demo(demo, tmp_path)  # reading a WAL database writes beside it: a private copy
    demo_key = bytes.fromhex((tmp_path / "d" / "demo.key").read_text())
    with keyed(tmp_path / "d" / "demo.db", demo_key) as db:
        assert db.execute("SELECT count(*) FROM waves WHERE status = 'closed'").fetchone() == (9,)
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


@pytest.mark.needs_chromium
def test_report_writes_html_png_and_tables(run, demo, tmp_path: Path) -> None:
    """report --png/--xlsx/--csv: every chart as PNG, the suppressed tables, the page."""
    with_demo(demo, tmp_path)
    result = run(
        *("--config", "c.toml", "report", "--out", "r.html", "--lang", "en"),
        *("--png", "png", "--xlsx", "t.xlsx", "--csv", "csv", "--wave", "7", "--wave", "8"),
        key=None,
    )
    assert result.returncode == 0, result.stderr
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert len(pngs) >= 8 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert any("trust_matrix" in p.name for p in pngs)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Key findings" in page and "Methods" in page
    assert (tmp_path / "t.xlsx").read_bytes()[:2] == b"PK" and list((tmp_path / "csv").iterdir())
    assert_private(tmp_path, "c.toml")  # database, key, report, PNGs, tables: 0600


def test_demo_preview_runs_the_scripted_terminal_preview(run) -> None:
    """demo --preview shows a survey answered by a scripted respondent."""
    result = run("demo", "--preview", "--survey", "trust", "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Trust scan" in result.stdout and "Done!" in result.stdout


def test_export_writes_suppressed_tables(run, demo, tmp_path: Path) -> None:
    """export writes CSV and XLSX of the aggregated tables, never individual answers."""
    with_demo(demo, tmp_path)
    result = run("--config", "c.toml", "export", "--csv", "csv", "--xlsx", "t.xlsx", key=None)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (tmp_path / "csv").glob("*.csv")}
    assert "trust_dimension_scores.csv" in names and "culture_culture_distance.csv" in names
    for path in (tmp_path / "csv").glob("*.csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert "response" not in header.split(",")
    assert (tmp_path / "t.xlsx").read_bytes()[:2] == b"PK"
    assert run("--config", "c.toml", "export", key=None).returncode == 1
