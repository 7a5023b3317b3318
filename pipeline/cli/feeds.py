"""``newsmon feeds ...``: list, check health, import/export OPML, discover."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipeline.config import Settings
from pipeline.errors import ConfigError, FetchError
from pipeline.feeds.feedlist import FeedSource
from pipeline.feeds.health import is_quiet


def run_feeds_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``newsmon feeds`` subcommand; returns the exit code."""
    from pipeline.feeds.feedlist import load_feed_list, to_opml

    cmd = args.feeds_command
    if cmd == "list":
        for src in load_feed_list(settings.feeds_path):
            print(f"{src.name}\t{src.language or '-'}\t{src.url}")
        return 0
    if cmd == "export":
        sys.stdout.write(to_opml(load_feed_list(settings.feeds_path)))
        return 0
    if cmd == "import":
        current = load_feed_list(settings.feeds_path) if settings.feeds_path.exists() else []
        incoming = load_feed_list(Path(args.file))
        known = {s.url for s in current}
        added: list[FeedSource] = [s for s in incoming if s.url not in known]
        if args.in_place:
            target = settings.feeds_path
            _append_feed_yaml(target, current, added)
        else:
            target = Path(args.out) if args.out else settings.home / "feeds.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_feed_yaml(target, [*current, *added])
        print(
            f"imported {len(added)} new feeds ({len(incoming) - len(added)} already listed) "
            f"into {target}"
        )
        return 0
    if cmd == "discover":
        return _discover(args.url, settings)
    if cmd in ("enable", "disable"):
        return _toggle(
            settings, args.feed, enable=cmd == "enable", reason=args.__dict__.get("reason")
        )
    return _check(settings)


def _toggle(settings: Settings, which: str, *, enable: bool, reason: str | None) -> int:
    """Enable or disable one feed by name or URL; the state survives init and ingest."""
    from storage import repo
    from storage.db import check_connection, make_engine, session_scope

    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with session_scope(engine) as session:
            feed = repo.set_feed_enabled(
                session, which, enabled=enable, reason=reason, now=datetime.now(UTC)
            )
            line = f"{feed.name}: {'enabled' if feed.enabled else 'disabled'}"
            if feed.disabled_reason:
                line += f" ({feed.disabled_reason})"
    finally:
        engine.dispose()
    print(line)
    return 0


def _items(sources: Sequence[FeedSource]) -> list[dict[str, object]]:
    items = []
    for s in sources:
        item = {
            k: v for k, v in vars(s).items() if v not in (None, (), []) and not k.startswith("_")
        }
        if "tags" in item:
            item["tags"] = list(item["tags"])
        items.append(item)
    return items


def _replace_file(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _write_feed_yaml(path: Path, sources: Sequence[FeedSource]) -> None:
    text = yaml.safe_dump({"feeds": _items(sources)}, allow_unicode=True, sort_keys=False)
    _replace_file(path, text)


def _append_feed_yaml(
    path: Path, current: Sequence[FeedSource], added: Sequence[FeedSource]
) -> None:
    """Append ``added`` to the list file as text, so its comments and layout survive.

    Only when the result reads back as exactly ``current + added`` (the file's feed list
    is its last block); otherwise the file is left alone and the user told why.
    """
    from pipeline.feeds.feedlist import parse_yaml

    if not added:
        return
    original = path.read_text(encoding="utf-8")
    block = yaml.safe_dump(_items(added), allow_unicode=True, sort_keys=False)
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    text = original.rstrip("\n") + "\n" + indented
    try:
        merged = [s.url for s in parse_yaml(text.encode("utf-8"), str(path))]
    except ConfigError:
        merged = []
    if merged != [s.url for s in [*current, *added]]:
        raise ConfigError(
            "cannot append to this file without rewriting it (its feed list is not its "
            "last block); use --out FILE instead",
            path=str(path),
        )
    _replace_file(path, text)


def _discover(url: str, settings: Settings) -> int:
    from pipeline.feeds.feedlist import discover_feeds
    from pipeline.net.client import FetchRequest, fetch_all

    [result] = fetch_all(settings.fetch, [FetchRequest(url=url, kind="feed")])
    if isinstance(result, FetchError):
        raise result
    found = discover_feeds(result.body, result.url)
    for feed_url in found:
        print(feed_url)
    if not found:
        print(f"newsmon: no feeds found on {url}", file=sys.stderr)
        return 1
    return 0


def _check(settings: Settings) -> int:
    from sqlmodel import Session, select

    from storage.db import check_connection, make_engine
    from storage.models import Feed
    from storage.queue import Backlog, backlog_by_feed

    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        check_connection(engine)
        with Session(engine) as session:
            feeds = list(session.exec(select(Feed).order_by(Feed.name)))
            backlog = backlog_by_feed(session, now)
    finally:
        engine.dispose()
    if not feeds:
        raise ConfigError("no feeds in the database yet: run 'newsmon init' first")
    bad = 0
    # backlog: pages queued and not fetched yet (due now + waiting for a retry)
    print("status\tfailures\tscore\tinterval\tbacklog\tlast success\tname\tdetail")
    for f in feeds:
        if not f.enabled:
            status = "disabled"
        elif f.consecutive_failures:
            status = "failing"
        elif f.last_polled_at and is_quiet(
            f.last_new_entry_at, f.created_at, f.poll_interval_s, now
        ):
            status = "quiet"
        elif f.last_polled_at is None:
            status = "new"
        else:
            status = "ok"
        bad += status in ("disabled", "failing")
        last = f.last_success_at.strftime("%Y-%m-%d %H:%M") if f.last_success_at else "never"
        detail = (f"disabled: {f.disabled_reason}" if not f.enabled else f.last_error) or ""
        queued = backlog.get(f.id, Backlog(0, 0, None))
        print(
            f"{status}\t{f.consecutive_failures}\t{f.failure_score:.1f}\t"
            f"{f.poll_interval_s // 60}m\t{queued.due}+{queued.waiting}\t{last}\t{f.name}\t{detail}"
        )
    waiting = sum(b.total for b in backlog.values())
    print(
        f"{len(feeds)} feeds, {bad} failing or disabled, {waiting} pages queued",
        file=sys.stderr,
    )
    return 0
