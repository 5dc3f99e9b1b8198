"""The `trustscan` command: one entry point for every task.

Each subcommand is a small function taking the parsed arguments and the config; the
facilitator's tasks go through `trustscan.operations` (validated and audited there),
so this module only parses and prints. Errors that a user can fix (bad config, bad
survey file, unknown wave) are printed as one clear message with exit code 1, never as
a traceback. `run` starts the Telegram adapter, which `bot.main` hands in: this
package never imports `bot`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from surveys.engine import Questionnaire, Respondent
from surveys.errors import DefinitionError, SurveyError
from surveys.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from surveys.loader import builtin_paths, load_survey
from surveys.store import Wave

from .config import Config, ConfigError, load_config
from .operations import (
    Closing,
    Link,
    OperationError,
    Operations,
    check_database_access,
    open_operations,
    organisation_of,
    role_of,
    survey_of,
)
from .services import check_master_key, load_registry, open_store, survey_files

if TYPE_CHECKING:
    from .operations import Reports

ACTOR = "cli"
Runner = Callable[[Config, argparse.Namespace], None]

DESCRIPTION = """\
trustscan runs anonymous trust and culture scans among the organisations of a
partnership, answered in a Telegram chat, and turns the answers into comparison
charts per organisation.

Without --config (or $TRUSTSCAN_CONFIG) trustscan uses embedded defaults: a demo
partnership of four fictional municipalities, the built-in surveys (trust, culture,
evaluation) and the database trustscan.db in the current folder.
"""

EPILOG = """\
examples:
  trustscan check                          validate the built-in surveys
  trustscan preview trust --lang en        take the trust scan in the terminal
  trustscan wave open trust --closes 2026-12-31
  trustscan invite --qr qr-codes/          group links and QR codes per organisation
  trustscan codes --org lindermeer --role council --count 9 --pdf slips.pdf
                                           one single-use code per council member
  trustscan wave list                      waves with response counts
  trustscan wave close 1                   close wave 1 (destroys its linking secret)
  trustscan wave extend 1 2027-04-15       move the closing date of wave 1
"""


class UsageError(Exception):
    """A mistake on the command line that the user can fix."""


def main(argv: Sequence[str] | None = None, runner: Runner | None = None) -> int:
    """Parse, load the config, run one command; `runner` starts the bot for `run`."""
    # Everything trustscan writes — database, backups, reports, exports, QR codes — is for
    # the facilitator alone: files 0600 and folders 0700, whatever the caller's umask.
    os.umask(0o077)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    args.runner = runner
    lang = getattr(args, "lang", None) or DEFAULT_LANGUAGE
    try:
        config = load_config(getattr(args, "config", None))
        lang = _lang(args, config)
        return args.handler(args, config) or 0
    except OperationError as exc:
        print(f"trustscan: {t(exc.key('cli'), lang, **exc.params)}", file=sys.stderr)
        return 1
    except (ConfigError, SurveyError, UsageError) as exc:
        print(f"trustscan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ntrustscan: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """Every command and its options, in the order `--help` lists them.

    Long on purpose: it is a declaration, one block per command, read top to bottom
    like the help text it produces; splitting it would scatter that one listing.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: $TRUSTSCAN_CONFIG or embedded defaults)",
    )
    common.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=argparse.SUPPRESS,
        help="language of what trustscan writes for facilitators (default: the config's)",
    )
    parser = argparse.ArgumentParser(
        prog="trustscan",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        name: str,
        handler: Callable[..., int | None],
        help_text: str,
        parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text, parents=[common])
        p.set_defaults(handler=handler)
        return p

    p = command(
        "check",
        cmd_check,
        "validate survey definition files (built-ins when none given); exit 1 on any problem",
    )
    p.add_argument("files", nargs="*", type=Path, metavar="FILE")

    p = command(
        "preview",
        cmd_preview,
        "take a survey in the terminal through the same engine as the bot (nothing is stored)",
    )
    p.add_argument("survey", metavar="SURVEY", help="survey id, e.g. trust, or a .toml file")
    p.add_argument("--org", metavar="ID", help="organisation of the respondent")
    p.add_argument("--role", metavar="ID", help="role of the respondent")

    wave = sub.add_parser("wave", help="open, close and list waves", parents=[common])
    wave.set_defaults(handler=_wave_help(wave))
    wave_sub = wave.add_subparsers(title="wave commands", metavar="ACTION")
    p = command("open", cmd_wave_open, "open a wave of a survey for every organisation", wave_sub)
    p.add_argument("survey", metavar="SURVEY")
    p.add_argument("--name", help="e.g. 'Voorjaar 2027' (default: '<survey> <n>')")
    p.add_argument("--closes", metavar="YYYY-MM-DD", type=_date, help="closing date")
    p.add_argument(
        "--opens",
        metavar="YYYY-MM-DD",
        type=_date,
        help="opening date in the future: the wave is scheduled",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="open even though a wave of this survey is open (its links keep leading there)",
    )
    p = command(
        "close",
        cmd_wave_close,
        "close a wave: results become available and the "
        "secret that links answers to people is destroyed (asks first)",
        wave_sub,
    )
    p.add_argument("wave", type=int, metavar="WAVE")
    p.add_argument("-y", "--yes", action="store_true", help="close without asking")
    p = command("rename", cmd_wave_rename, "give a wave the name reports show", wave_sub)
    p.add_argument("wave", type=int, metavar="WAVE")
    p.add_argument("name", metavar="NAME", help="e.g. 'Vertrouwensscan voorjaar 2027'")
    p = command(
        "extend",
        cmd_wave_extend,
        "move the closing date of a wave not yet closed (not before today)",
        wave_sub,
    )
    p.add_argument("wave", type=int, metavar="WAVE")
    p.add_argument("closes", metavar="YYYY-MM-DD", type=_date, help="the new closing date")
    command("list", cmd_wave_list, "list waves with response counts per organisation", wave_sub)

    p = command(
        "invite",
        cmd_invite,
        "print the group invitation links per organisation (and role), optionally as QR code PNGs",
    )
    p.add_argument(
        "--wave",
        type=int,
        metavar="WAVE",
        help="tie the links to one wave (default: the open wave of each link's survey)",
    )
    p.add_argument(
        "--survey",
        metavar="SURVEY",
        help="links for this survey, also before a wave of it opens "
        "(default: every survey with a wave open or scheduled)",
    )
    p.add_argument("--org", metavar="ID", help="only this organisation")
    p.add_argument("--role", metavar="ID", help="links that fix this role")
    p.add_argument("--qr", metavar="DIR", type=Path, help="write a QR code PNG per link here")

    p = command(
        "codes",
        cmd_codes,
        "issue single-use codes for a restricted role of one organisation, one per member: "
        "printed one per line, optionally as a sheet of slips to cut out",
    )
    p.add_argument("--org", required=True, metavar="ID", help="the organisation")
    p.add_argument("--role", required=True, metavar="ID", help="a restricted role, e.g. council")
    p.add_argument("--count", required=True, type=int, metavar="N", help="codes: one per member")
    p.add_argument(
        "--survey",
        metavar="SURVEY",
        help="the survey whose link the slips print (default: the one with a wave open "
        "or scheduled)",
    )
    p.add_argument("--pdf", type=Path, metavar="FILE", help="also write the slips as A4 PDF")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write the slips as HTML")

    p = command("run", cmd_run, "run the Telegram bot (long polling; --webhook-url for a webhook)")
    p.add_argument("--webhook-url", metavar="URL", help="public HTTPS URL Telegram posts to")
    p.add_argument(
        "--listen",
        default="127.0.0.1",
        metavar="HOST",
        help="address the webhook server listens on (default 127.0.0.1)",
    )
    p.add_argument("--port", type=int, default=8443, metavar="N")
    p.add_argument(
        "--secret-token",
        metavar="T",
        help="secret Telegram sends with each update (a webhook refuses to start without it)",
    )
    p.add_argument(
        "--insecure-loopback",
        action="store_true",
        help="for tests only: a webhook without --secret-token, on a loopback --listen address",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")

    p = command(
        "demo",
        cmd_demo,
        "simulate three measurements of a demo partnership through "
        "the engine and the store, then write the full report (no token, no network)",
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=Path("trustscan-demo"),
        metavar="DIR",
        help="where the demo database and report go (replaced on each run)",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="instead: show the surveys answered by a scripted respondent",
    )
    p.add_argument(
        "--survey",
        action="append",
        metavar="SURVEY",
        help="with --preview: survey id (default: all built-ins)",
    )

    p = command(
        "report",
        cmd_report,
        "write the HTML report of closed waves (open waves: "
        "response counts only), optionally the suppressed tables as CSV",
    )
    p.add_argument(
        "--wave",
        type=int,
        action="append",
        metavar="WAVE",
        help="wave to include (repeatable; default: per survey every closed measurement, "
        "the latest against the one before, open ones as response progress)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the HTML page here (default: report.html, when no other output is asked for)",
    )
    p.add_argument("--csv", type=Path, metavar="DIR", help="also write the tables as CSV here")
    p.add_argument("--png", type=Path, metavar="DIR", help="also write every chart as PNG")
    p.add_argument("--xlsx", type=Path, metavar="FILE", help="also write the tables as XLSX")
    p.add_argument(
        "--org",
        metavar="ID",
        help="the page of one partner organisation only (the same figures as the full report)",
    )
    p.add_argument(
        "--pdf", type=Path, metavar="FILE", help="also print the report to PDF (A4, with a cover)"
    )
    p.add_argument(
        "--pptx", type=Path, metavar="FILE", help="also write a slide deck, a slide per chart"
    )

    p = command(
        "export",
        cmd_export,
        "write the aggregated, suppressed tables of closed "
        "waves as CSV files and/or one XLSX workbook (no charts)",
    )
    p.add_argument("--wave", type=int, action="append", metavar="WAVE")
    p.add_argument("--csv", type=Path, metavar="DIR")
    p.add_argument("--xlsx", type=Path, metavar="FILE")

    p = command("backup", cmd_backup, "write a consistent copy of the live database")
    p.add_argument("path", type=Path, metavar="PATH")
    return parser


def _lang(args: argparse.Namespace, config: Config) -> str:
    """The language facilitators read: --lang, else the config's default."""
    return getattr(args, "lang", None) or config.default_language


def _wave_line(wave: Wave, lang: str) -> str:
    """One wave of `wave list`: number, name, survey, status and its dates."""
    dates = ", ".join(
        x
        for x in (
            t("cli.opens", lang, date=wave.opens_on) if wave.status == "scheduled" else "",
            t("cli.closes", lang, date=wave.closes_on) if wave.closes_on else "",
            t("cli.closed", lang, date=wave.closed_at[:10]) if wave.closed_at else "",
        )
        if x
    )
    line = t(
        "cli.wave_line",
        lang,
        wave=wave.id,
        name=wave.name,
        survey=wave.survey,
        status=t(f"cli.status_{wave.status}", lang),
    )
    return line + (f"  ({dates})" if dates else "")


def _wave_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace, Config], int]:
    """`trustscan wave` without an action: its help, exit 2."""

    def show(args: argparse.Namespace, config: Config) -> int:
        parser.print_help()
        return 2

    return show


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-31") from None


# -- commands -----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    files = args.files or (survey_files(config) if config.source else builtin_paths())
    roles = [r.id for r in config.roles]
    failed = 0
    for path in files:
        try:
            survey = load_survey(path, roles)
        except DefinitionError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(
            f"ok  {path.name}: survey '{survey.id}' v{survey.version}, "
            f"{len(survey.questions)} questions"
        )
    if failed:
        print(f"{failed} of {len(files)} file(s) have problems", file=sys.stderr)
    elif not args.files:
        load_registry(config)  # the configured set: role labels in every language it offers
    return 1 if failed else 0


def cmd_preview(args: argparse.Namespace, config: Config) -> int:
    from .preview import run_preview

    if args.survey.endswith(".toml"):
        survey = load_survey(args.survey, [r.id for r in config.roles])
    else:
        survey = survey_of(load_registry(config), args.survey)
    org = organisation_of(config, args.org).id if args.org else config.organisations[0].id
    role = role_of(config, args.role).id if args.role else config.roles[0].id
    lang = _lang(args, config)
    questionnaire = Questionnaire(survey, Respondent(org, role, lang, config.partners()))

    def write(text: str) -> None:
        print(text, flush=True)

    done = run_preview(questionnaire, iter(sys.stdin.readline, ""), write, lang)
    return 0 if done else 1


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    import logging

    if args.runner is None:
        raise UsageError("the Telegram adapter is not installed: start trustscan via bot.main")
    check_database_access(config)  # one sentence now, not a traceback from the bot's start
    check_master_key(config)  # likewise, before the bot's library is even loaded
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its lines contain the bot token
    args.runner(config, args)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    if args.preview:
        return _demo_preview(args, config)
    import dataclasses
    import shutil
    import time

    from .reporting import build_reports, write_csv
    from .simulation import simulate_wave

    lang = _lang(args, config)
    folder = args.dir.resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    demo = dataclasses.replace(
        config, database=folder / "demo.db", key_file=folder / "demo.key", master_key=None
    )
    registry = load_registry(demo)
    seasons = ("voorjaar 2026", "najaar 2026", "voorjaar 2027")
    started = time.perf_counter()

    async def go() -> None:
        async with await open_store(demo) as store:
            for number, season in enumerate(seasons, start=1):
                for offset, survey_id in enumerate(("trust", "culture", "evaluation")):
                    survey = registry[survey_id]
                    wave = await store.open_wave(
                        survey.id,
                        survey.version,
                        [o.id for o in demo.organisations],
                        name=f"{survey.title.get(lang)} {season}",
                    )
                    count = await simulate_wave(
                        store, survey, wave.id, number, demo.partners(), seed=number * 100 + offset
                    )
                    await store.close_wave(wave.id)
                    print(f"  {wave.name}: {count} respondents", flush=True)
            page, reports = await build_reports(store, demo, registry, None, lang)
        (folder / "report.html").write_text(page, encoding="utf-8")
        write_csv(reports, folder / "tables")
        for report in reports:
            print(f"\n{report.survey.title.get(lang)}:")
            for finding in report.findings:
                print(f"  - {finding}")

    print(
        f"Simulating three measurements of {demo.partnership} "
        f"({', '.join(o.name for o in demo.organisations)}) through the engine and store:"
    )
    asyncio.run(go())
    print(
        f"\nDone in {time.perf_counter() - started:.0f} s. Open the report:\n"
        f"  {folder / 'report.html'}\n(tables as CSV in {folder / 'tables'}; the demo "
        f"database is {folder / 'demo.db'})"
    )
    return 0


def _demo_preview(args: argparse.Namespace, config: Config) -> int:
    from .demo import run_demo

    lang = _lang(args, config)
    registry = load_registry(config)
    org, role = config.organisations[0].id, config.roles[0].id
    for survey_id in args.survey or ["trust", "culture", "evaluation"]:
        survey = survey_of(registry, survey_id)
        questionnaire = Questionnaire(survey, Respondent(org, role, lang, config.partners()))
        if not run_demo(questionnaire, lambda text: print(text, flush=True), lang):
            return 1
        print()
    print("This was the terminal preview: the same engine the Telegram bot uses.")
    return 0


def cmd_wave_open(args: argparse.Namespace, config: Config) -> int:
    async def go() -> None:
        async with open_operations(config) as ops:
            wave = await ops.open_wave(
                ACTOR,
                args.survey,
                name=args.name,
                closes_on=args.closes,
                opens_on=args.opens,
                force=args.force,
            )
            lang = _lang(args, config)
            detectable = await ops.detectable_lines(wave.survey, lang)
        said = t(
            "cli.wave_is_scheduled" if wave.status == "scheduled" else "cli.wave_is_open",
            lang,
            wave=wave.id,
            name=wave.name,
            survey=wave.survey,
            opens=wave.opens_on,
        )
        if wave.closes_on:
            said += t("cli.closes_on", lang, closes=wave.closes_on)
        print(said)
        print("\n".join(detectable))
        print(t("cli.next_invite", lang))

    asyncio.run(go())
    return 0


def cmd_wave_close(args: argparse.Namespace, config: Config) -> int:
    lang = _lang(args, config)

    async def go() -> int:
        async with open_operations(config) as ops:
            closing = await ops.closing(args.wave)
        _print_closing(closing, config, lang)
        # asked with the database closed: a facilitator pondering holds up no one
        if not args.yes and not _confirmed(t("waves.cli_close_question", lang), lang):
            print(t("waves.cli_close_cancelled", lang), file=sys.stderr)
            return 1
        async with open_operations(config) as ops:
            closed = await ops.close_wave(ACTOR, args.wave)
        if closed.unlink_pending:
            print(t("cli.unlink_pending", lang), file=sys.stderr)
        print(
            t(
                "cli.wave_is_closed",
                lang,
                wave=closed.wave.id,
                name=closed.wave.name,
                completed=closed.completed,
            )
        )
        return 0

    return asyncio.run(go())


def _print_closing(closing: Closing, config: Config, lang: str) -> None:
    """The counts a close would freeze, and the organisations the report will leave out."""
    wave = closing.wave
    print(
        t(
            "waves.cli_closing",
            lang,
            wave=wave.id,
            name=wave.name,
            completed=closing.completed,
            in_progress=closing.in_progress,
        )
    )
    if closing.below_k:
        groups = ", ".join(f"{_org_name(config, c.org)} ({c.completed})" for c in closing.below_k)
        print(t("waves.cli_below_k", lang, k=closing.k, groups=groups))
    print(t("waves.cli_roles_below_k", lang, k=closing.k))


def _org_name(config: Config, org_id: str) -> str:
    org = config.organisation(org_id)
    return org.name if org else org_id


def _confirmed(question: str, lang: str) -> bool:
    """Ask on the terminal; only an explicit yes counts (end of input is a no)."""
    print(question, end=" ", flush=True)
    line = sys.stdin.readline()
    if not line:  # end of input: the prompt's line still wants its end
        print()
    answer = line.strip().lower()
    return answer in {"y", "yes", t("waves.cli_yes_short", lang), t("waves.cli_yes_long", lang)}


def cmd_wave_rename(args: argparse.Namespace, config: Config) -> int:
    async def go() -> None:
        async with open_operations(config) as ops:
            wave = await ops.rename_wave(ACTOR, args.wave, args.name)
        print(t("waves.cli_renamed", _lang(args, config), wave=wave.id, name=wave.name))

    asyncio.run(go())
    return 0


def cmd_wave_extend(args: argparse.Namespace, config: Config) -> int:
    async def go() -> None:
        async with open_operations(config) as ops:
            wave = await ops.extend_wave(ACTOR, args.wave, args.closes)
        lang = _lang(args, config)
        print(t("waves.cli_extended", lang, wave=wave.id, name=wave.name, date=wave.closes_on))

    asyncio.run(go())
    return 0


def cmd_wave_list(args: argparse.Namespace, config: Config) -> int:
    async def go() -> None:
        async with open_operations(config) as ops:
            statuses = await ops.overview(ACTOR)
        lang = _lang(args, config)
        if not statuses:
            print(t("cli.no_waves", lang))
            return
        for status in statuses:
            print(_wave_line(status.wave, lang))
            for count in status.counts:
                org = config.organisation(count.org)
                rate = (
                    t(
                        "cli.rate",
                        lang,
                        percent=round(100 * count.completed / org.headcount),
                        headcount=org.headcount,
                    )
                    if org and org.headcount
                    else ""
                )
                print(
                    t(
                        "cli.count_line",
                        lang,
                        org=count.org,
                        completed=count.completed,
                        in_progress=count.in_progress,
                        rate=rate,
                    )
                )
            for flag in status.flags:
                # a role's own count is not shown: by subtraction from the
                # organisation's count it could give away a small group
                group = f"{flag.org}/{flag.role}" if flag.role else flag.org
                print(t("cli.flag_line", lang, group=group, headcount=flag.headcount))

    asyncio.run(go())
    return 0


def cmd_invite(args: argparse.Namespace, config: Config) -> int:
    from .invites import qr_filename

    lang = _lang(args, config)

    async def go() -> None:
        async with open_operations(config) as ops:
            links = await ops.links(ACTOR, args.org, args.role, args.wave, args.survey)
        several = len({link.survey for link in links}) > 1
        for survey in dict.fromkeys(link.survey for link in links):
            if several:
                print(t("waves.cli_links_of", lang, survey=survey))
            for link in (x for x in links if x.survey == survey):
                print(_link_line(args, link))
        restricted = sorted({link.role.id for link in links if link.role and not link.poster})
        if restricted:
            print(t("cli.restricted_note", lang, roles=", ".join(restricted)), file=sys.stderr)

    def _link_line(args: argparse.Namespace, link: Link) -> str:
        line = f"{link.label:<32} {link.url}"
        if args.qr and link.poster:
            args.qr.mkdir(parents=True, exist_ok=True)
            png = args.qr / qr_filename(link.invitation)
            png.write_bytes(Operations.qr_code(link))
            line += f"  ({png})"
        return line

    asyncio.run(go())
    return 0


def cmd_codes(args: argparse.Namespace, config: Config) -> int:
    """Codes on stdout, one per line (nothing else there: it can be piped); the rest on
    stderr. The sheets are written 0600; trustscan keeps no copy of any code."""
    from .code_sheet import sheet_html, sheet_pdf, write_sheet

    lang = _lang(args, config)

    async def go() -> None:
        async with open_operations(config) as ops:
            sheet = await ops.issue_codes(ACTOR, args.org, args.role, args.count, args.survey)
            survey = ops.survey(sheet.link.survey)
        print("\n".join(sheet.codes), flush=True)
        role = sheet.role.label.get(lang) if lang in sheet.role.label else sheet.role.id
        said = t(
            "codes.issued",
            lang,
            count=len(sheet.codes),
            org=sheet.org.name,
            role=role,
            survey=survey.id,
            link=sheet.link.url,
        )
        print(said, file=sys.stderr)
        if not (args.html or args.pdf):
            return
        page = sheet_html(
            sheet, config.partnership, survey.title.get(survey.language_for(lang)), lang
        )
        if args.html:
            write_sheet(args.html, page.encode("utf-8"))
            print(t("codes.sheet_written", lang, path=args.html.resolve()), file=sys.stderr)
        if args.pdf:
            from analysis.png import ExportError  # plotly: only when a PDF is asked for

            try:
                write_sheet(args.pdf, await sheet_pdf(page))
            except ExportError as exc:
                raise UsageError(f"{exc} (the codes above are issued and valid)") from None
            print(t("codes.sheet_written", lang, path=args.pdf.resolve()), file=sys.stderr)

    asyncio.run(go())
    return 0


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    from analysis.png import ExportError, figures_to_png

    from .reporting import write_csv, write_xlsx

    lang = _lang(args, config)

    async def go() -> None:
        async with open_operations(config) as ops:
            if args.csv or args.xlsx:  # tables exist for closed waves only: say so, write none
                await ops.refuse_open_for_tables(args.wave)
            result = await ops.report(ACTOR, args.wave, lang, org=args.org)
        out = html_out(args)
        if out is not None:  # each output flag writes its own file and nothing else
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(result.page, encoding="utf-8")
            print(t("cli.report_written", lang, path=out.resolve()))
        if args.csv:
            files = write_csv(result.reports, args.csv)
            print(t("cli.tables_written", lang, count=len(files), path=args.csv.resolve()))
        if args.xlsx:
            write_xlsx(result.reports, args.xlsx)
            print(t("cli.workbook_written", lang, path=args.xlsx.resolve()))
        if args.png:
            figures = [(r.survey.id, name, fig) for r in result.reports for name, fig in r.figures]
            try:
                pngs = await figures_to_png([fig for _, _, fig in figures])
            except ExportError as exc:
                raise UsageError(f"{exc} (the other files asked for were written)") from None
            args.png.mkdir(parents=True, exist_ok=True)
            for i, ((survey, name, _), png) in enumerate(zip(figures, pngs, strict=True)):
                (args.png / f"{i + 1:02d}_{survey}_{name}.png").write_bytes(png)
            print(t("cli.charts_written", lang, count=len(pngs), path=args.png.resolve()))
        if args.pdf or args.pptx:
            await _paper(args, config, result, lang)

    asyncio.run(go())
    return 0


def html_out(args: argparse.Namespace) -> Path | None:
    """Where the HTML page goes: `--out`, or report.html when nothing else was asked for.

    `report --pptx deck.pptx` writes the deck only: it must not overwrite a report.html
    that is already there (perhaps in another language).
    """
    if args.out is not None:
        return Path(args.out)
    others = (args.csv, args.png, args.xlsx, args.pdf, args.pptx)
    return None if any(o is not None for o in others) else Path("report.html")


async def _paper(args: argparse.Namespace, config: Config, result: Reports, lang: str) -> None:
    """`report --pdf/--pptx`: both through one Chromium, each file 0600."""
    from analysis.png import ExportError, PngRenderer

    from .reporting import pdf_of, pptx_of, write_private

    try:
        async with PngRenderer() as renderer:
            if args.pdf:
                pdf = await pdf_of(result.reports, result.page, config, lang, renderer, result.day)
                write_private(args.pdf, pdf)
                print(t("paper.pdf_written", lang, path=args.pdf.resolve()))
            if args.pptx:
                deck = await pptx_of(result.reports, config, lang, renderer, result.day)
                write_private(args.pptx, deck)
                print(t("paper.pptx_written", lang, path=args.pptx.resolve()))
    except ExportError as exc:
        raise UsageError(f"{exc} (the other files asked for were written)") from None


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from .reporting import write_csv, write_xlsx

    if not args.csv and not args.xlsx:
        raise UsageError("say where to: --csv DIR and/or --xlsx FILE")

    lang = _lang(args, config)

    async def go() -> None:
        async with open_operations(config) as ops:
            reports = await ops.reports(ACTOR, args.wave, lang, action="export")
        if not any(r.tables for r in reports):  # e.g. every group below k: nothing to write
            raise OperationError("waves.no_tables")
        if args.csv:
            count = len(write_csv(reports, args.csv))
            print(t("cli.tables_written", lang, count=count, path=args.csv.resolve()))
        if args.xlsx:
            write_xlsx(reports, args.xlsx)
            print(t("cli.workbook_written", lang, path=args.xlsx.resolve()))

    asyncio.run(go())
    return 0


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    async def go() -> None:
        async with open_operations(config) as ops:
            await ops.backup(ACTOR, args.path)
        print(
            t("cli.backup_written", _lang(args, config), path=args.path, key_file=config.key_file)
        )

    asyncio.run(go())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
