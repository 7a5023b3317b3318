"""The ``newsmon`` command (README: The command line).

Every command is idempotent and exits non-zero with a single line on stderr
when its input is bad; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pipeline.config import ENRICH_STEPS, Settings
from pipeline.errors import NewsmonError, UsageError
from pipeline.windows import parse_day, window_of_days

EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``newsmon`` argument parser; a bad argument raises UsageError rather than exiting."""
    p = _Parser(prog="newsmon", description="News monitor for the Korean peninsula.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("--database-url", help="overrides NEWSMON_DATABASE_URL")
    p.add_argument("--home", help="overrides NEWSMON_HOME")
    p.add_argument("--feeds", help="overrides NEWSMON_FEEDS")
    p.add_argument("--actors", help="overrides NEWSMON_ACTORS")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("init", help="create or migrate the schema; load seeds (idempotent)")
    ing = sub.add_parser("ingest", help="one pass over all feeds")
    ing.add_argument("--shard", type=int, default=0)
    ing.add_argument("--shards", type=int, default=1)

    rep = sub.add_parser("reprocess", help="re-run extraction and enrichment on stored pages")
    rep.add_argument("--since", required=True)
    rep.add_argument("--until", required=True, help="inclusive day")
    rep.add_argument(
        "--steps",
        default=",".join(ENRICH_STEPS),
        help="comma list of: " + ", ".join(ENRICH_STEPS),
    )

    dig = sub.add_parser("digest", help="build (and send) the digest of one day")
    dig.add_argument("--date", required=True, help="YYYY-MM-DD, today or yesterday")
    dig.add_argument("--send", action="store_true", help="send by SMTP (NEWSMON_SMTP_URL)")
    dig.add_argument("--to", action="append", default=None, metavar="ADDR")
    dig.add_argument("--out", help="directory for the .html/.txt/.json files")
    dig.add_argument("--resend", action="store_true", help="send again although already sent")

    exp = sub.add_parser("export", help="JSON Lines, one article per line")
    exp.add_argument("--since")
    exp.add_argument("--until", help="inclusive day")
    exp.add_argument("--all", action="store_true", help="not only relevant articles")
    exp.add_argument("--with-text", action="store_true")

    feeds = sub.add_parser("feeds", help="the feed list and its health")
    fsub = feeds.add_subparsers(dest="feeds_command", required=True, parser_class=_Parser)
    fsub.add_parser("list", help="configured feeds")
    fsub.add_parser("check", help="health of every feed")
    imp = fsub.add_parser(
        "import",
        help="merge an OPML or YAML list into $NEWSMON_HOME/feeds.yaml (or --out, --in-place)",
    )
    imp.add_argument("file")
    where = imp.add_mutually_exclusive_group()
    where.add_argument("--out", help="write the merged list to this YAML file")
    where.add_argument(
        "--in-place",
        action="store_true",
        help="append the new feeds to the current list file itself (NEWSMON_FEEDS)",
    )
    fsub.add_parser("export", help="the feed list as OPML")
    sub.add_parser(
        "doctor",
        help="check settings, database, SMTP (nothing sent), feed list, disk; exit 1 on a failure",
    )
    disc = fsub.add_parser("discover", help="find the feeds a web page links to")
    disc.add_argument("url")
    for verb, what in (
        ("enable", "poll a feed again (clears its failure count)"),
        ("disable", "stop polling a feed, with a reason"),
    ):
        tog = fsub.add_parser(verb, help=what)
        tog.add_argument("feed", metavar="NAME_OR_URL")
        if verb == "disable":
            tog.add_argument("--reason", default="", help="shown by 'feeds check'")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``newsmon`` command and return its exit status.

    Bad input or a failure ends in one line on stderr (status 2 for usage, 1 otherwise); a reader
    that closes the pipe (``newsmon export | head``) is not an error.
    """
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if args.command == "doctor":
            return _doctor(args)
        settings = _settings(args)
        return _dispatch(args, settings)
    except UsageError as exc:
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NewsmonError as exc:
        print(f"newsmon: error: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `newsmon export | head`: the reader has gone, which is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        # the environment, not a bug: a disk full or a directory that vanished mid-run
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"newsmon: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_FAILURE


def _settings(args: argparse.Namespace) -> Settings:
    """Flags override the environment variables they stand for (so --home also moves the
    default SQLite file, exactly as NEWSMON_HOME would)."""
    env = dict(os.environ)
    for flag, var in (
        ("home", "NEWSMON_HOME"),
        ("database_url", "NEWSMON_DATABASE_URL"),
        ("feeds", "NEWSMON_FEEDS"),
        ("actors", "NEWSMON_ACTORS"),
    ):
        value = getattr(args, flag)
        if value:
            env[var] = value
    return Settings.from_env(env)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.ops.startup import long_lived

    with long_lived():
        from pipeline import stages

    if args.command == "init":
        report = stages.init(settings)
    elif args.command == "ingest":
        report = stages.ingest(settings, shard=args.shard, shards=args.shards)
    elif args.command == "reprocess":
        since, until = window_of_days(args.since, args.until, settings.tz)
        steps = [s.strip() for s in args.steps.split(",") if s.strip()]
        try:
            report = stages.reprocess(settings, since, until, steps=steps)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    elif args.command == "digest":
        day = parse_day(args.date, settings.tz)
        report = stages.digest(
            settings,
            day,
            send=args.send,
            recipients=args.to,
            resend=args.resend,
            out_dir=Path(args.out) if args.out else None,
        )
        for path in report.outputs:
            print(path)
    elif args.command == "export":
        return _export(args, settings)
    else:
        from pipeline.cli.feeds import run_feeds_command

        return run_feeds_command(args, settings)
    print(report.summary_line(), file=sys.stderr)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    """One line per check on stdout; a bad setting is the first (and only) FAIL line."""
    from pipeline.ops.doctor import Check, raise_for_failures, run_checks

    try:
        settings = _settings(args)
    except NewsmonError as exc:
        results = [Check("settings", False, str(exc).splitlines()[0])]
    else:
        results = run_checks(settings)
    for check in results:
        print(check.line(), flush=True)
    raise_for_failures(results)
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import check_connection, make_engine
    from storage.export import iter_export_rows

    since, until = window_of_days(args.since, args.until, settings.tz)
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        out = sys.stdout
        for row in iter_export_rows(
            engine, since, until, relevant_only=not args.all, with_text=args.with_text
        ):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
