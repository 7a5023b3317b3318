"""`make scale-test`: newsmon's DAGs on a real CeleryExecutor cluster with two workers.

Starts (tests/support/celery_cluster.py) Airflow's api-server, scheduler,
dag-processor, triggerer and two Celery workers on PostgreSQL (two fresh
databases: Airflow's metadata and newsmon's storage) with Redis as the broker,
serves the bundled fixture feeds and pages on loopback and an SMTP server
(aiosmtpd), then through the REST API (/api/v2, JWT login):

1. triggers newsmon_ingest (mapped ingest_shard tasks spread over both workers)
   and newsmon_digest for today, checks newsmon's database and the mail;
2. makes every feed due again and does the same once more on the same
   databases: nothing is stored twice, no second mail goes out;
3. with ``--kill-worker``: adds a feed whose new page answers slowly, and while
   an ingest shard is fetching it SIGKILLs the worker running that shard. Airflow
   notices the missing heartbeat, the task is retried on the other worker, and
   the page is stored exactly once.

Across invocations: ``--name X --keep-databases --site-port P`` leaves the
databases, and ``--name X --reuse-databases --site-port P`` runs again on them:
the same articles, no entry twice, no mail at all (today's digest is recorded
as sent), so its last line says ``digests_sent=0``.

Stops everything it started and prints as its last line
``scale-test: workers=2 workers_used=M articles=A duplicates=D digests_sent=S seconds=T``.
Exit status 0 when all checks pass, 1 when one fails, 2 when PostgreSQL or
Redis is not reachable.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.celery_cluster import Cluster, ClusterError, services_missing  # noqa: E402
from tests.support.demo_site import PAGES, serve_site, write_feed_list  # noqa: E402
from tests.support.http_server import LoopbackServer  # noqa: E402
from tests.support.scale_checks import StoreCounts, make_feeds_due, store_counts  # noqa: E402
from tests.support.smtp_server import SmtpInbox  # noqa: E402

DESK = "desk@example.org"
LATE_PAGE = "/news/late-page.html"
LATE_SOURCE = ROOT / "tests/fixtures/extraction/corpus/trafilatura-eval/cache/chip.de.beef.html.gz"


class Failed(Exception):
    """A check of the scale test did not hold."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)
    print(f"  ok: {what}", flush=True)


class SlowOnce:
    """A page whose first request hangs until released (the worker is killed meanwhile)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requested = threading.Event()
        self.release = threading.Event()
        self.count = 0

    def install(self, site: LoopbackServer) -> None:
        from tests.support.http_server import Response

        def handle(h: Any, req: Any) -> None:
            self.count += 1
            if self.count == 1:
                self.requested.set()
                self.release.wait(120)  # bounded: never hangs the server
            h._send(Response(200, self.body, {"Content-Type": "text/html; charset=utf-8"}))

        site.add_raw(LATE_PAGE, handle)


def late_feed(site: LoopbackServer) -> bytes:
    now = datetime.now(ZoneInfo("UTC")).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>late feed</title><link>{site.base_url}/</link><description>x</description>"
        f"<item><title>Late page</title><link>{site.url(LATE_PAGE)}</link>"
        f"<guid>late-page-1</guid><pubDate>{now}</pubDate></item></channel></rss>"
    ).encode()


def newsmon_hosts(cluster: Cluster, runs: list[tuple[str, str]]) -> dict[str, int]:
    """Worker host name -> number of task tries it ran, over the given runs' task instances."""
    hosts: dict[str, int] = {}
    for dag_id, run_id in runs:
        for ti in cluster.task_instances(dag_id, run_id):
            for t in cluster.tries(dag_id, run_id, ti["task_id"], int(ti.get("map_index", -1))):
                if t.get("hostname"):
                    hosts[t["hostname"]] = hosts.get(t["hostname"], 0) + 1
    return hosts


def one_pass(cluster: Cluster, inbox: SmtpInbox, today: str) -> tuple[str, str]:
    ingest = cluster.trigger("newsmon_ingest")
    state = cluster.wait_run("newsmon_ingest", ingest)
    check(state == "success", f"newsmon_ingest run {ingest} succeeded ({state})")
    conf = {"date": today, "recipients": [DESK], "send": True}
    digest = cluster.trigger("newsmon_digest", conf)
    state = cluster.wait_run("newsmon_digest", digest)
    check(state == "success", f"newsmon_digest run {digest} succeeded ({state})")
    return ingest, digest


def kill_pass(
    cluster: Cluster, site: LoopbackServer, feeds: Path, slow: SlowOnce
) -> tuple[str, int]:
    """Scenario 3: SIGKILL the worker running the shard that is fetching the slow page."""
    site.add_file("/feeds/late.xml", late_feed(site), content_type="application/rss+xml")
    with feeds.open("a", encoding="utf-8") as f:
        f.write(f"  - name: late feed\n    url: {site.url('/feeds/late.xml')}\n    language: de\n")
    run_id = cluster.trigger("newsmon_ingest")
    if not slow.requested.wait(300):
        raise Failed("the slow page was never requested")

    def running_shard() -> dict[str, Any] | None:
        # any run: the scheduler's own */30 run may be the one that reads the new feed
        tis = cluster.task_instances("newsmon_ingest", "~", state="running")
        running = [t for t in tis if t["task_id"] == "ingest_shard"]
        return running[0] if len(running) == 1 and running[0].get("hostname") else None

    victim = cluster.wait_for("the shard fetching the slow page", running_shard, 60)
    host = str(victim["hostname"])
    k = int(host.split("@")[0].removeprefix("worker"))
    print(
        f"  killing worker{k} ({host}) with SIGKILL in the middle of shard {victim['map_index']}",
        flush=True,
    )
    cluster.kill_worker(k)
    slow.release.set()
    killed_run = str(victim["dag_run_id"])
    for rid in dict.fromkeys((killed_run, run_id)):
        state = cluster.wait_run("newsmon_ingest", rid, timeout=400)
        check(state == "success", f"newsmon_ingest run {rid} succeeded after the kill ({state})")
    tries = cluster.tries("newsmon_ingest", killed_run, "ingest_shard", int(victim["map_index"]))
    check(len(tries) >= 2, f"the killed shard was retried ({len(tries)} tries)")
    last = tries[-1]
    check(
        last["state"] == "success" and last.get("hostname") not in (None, host),
        f"the retry ran on the other worker ({last.get('hostname')}, {last['state']})",
    )
    return run_id, k


def scenario(args: argparse.Namespace, root: Path) -> tuple[dict[str, Any], str]:
    started = time.monotonic()
    tz = ZoneInfo(os.environ.get("NEWSMON_TIMEZONE") or "Europe/Berlin")
    today = datetime.now(tz).date().isoformat()
    # a fixed site port keeps the feed and page URLs of a reused database valid
    with LoopbackServer(port=args.site_port) as site, SmtpInbox() as inbox:
        serve_site(site)
        slow = SlowOnce(gzip.decompress(LATE_SOURCE.read_bytes()))
        slow.install(site)
        feeds = write_feed_list(site, root / "feeds.yaml")
        from tests.support.airflow_env import smtp_connection_env

        cluster = Cluster(
            root / "cluster",
            name=args.name,
            workers=args.workers,
            concurrency=args.concurrency,
            redis_db=args.redis_db,
            extra_env={
                "NEWSMON_FEEDS": str(feeds),
                "NEWSMON_INGEST_SHARDS": str(args.shards),
                "AIRFLOW_CONN_NEWSMON_SMTP": smtp_connection_env(inbox.port),
            },
        )
        runs: list[tuple[str, str]] = []
        try:
            print(
                f"scale-test: databases {cluster.airflow_db}, {cluster.newsmon_db}; "
                f"broker redis db {args.redis_db}, queue {cluster.queue}",
                flush=True,
            )
            cluster.create_databases(fresh=not args.reuse_databases)
            cluster.start()
            cluster.create_pool("newsmon_http", 8, "newsmon: tasks that poll feeds and fetch pages")
            for dag_id in ("newsmon_ingest", "newsmon_digest"):
                cluster.unpause(dag_id)
            print("pass 1: ingest + digest", flush=True)
            ingest, digest = one_pass(cluster, inbox, today)
            runs += [("newsmon_ingest", ingest), ("newsmon_digest", digest)]
            first = store_counts(cluster.env["NEWSMON_DATABASE_URL"], today, DESK)
            check(first.articles == len(PAGES), f"{first.articles} articles stored")
            check(first.duplicates == 0, f"no duplicate rows ({first.duplicates})")
            # a run on the databases of an earlier one: today's digest went out already
            mails = 0 if args.reuse_databases else 1
            check(len(inbox.to(DESK)) == mails, f"{mails} digest mailed ({len(inbox.to(DESK))})")
            check(first.sent == 1, f"the digest delivery is recorded once ({first.sent})")

            print("pass 2: every feed due again, same databases", flush=True)
            make_feeds_due(cluster.env["NEWSMON_DATABASE_URL"])
            ingest, digest = one_pass(cluster, inbox, today)
            runs += [("newsmon_ingest", ingest), ("newsmon_digest", digest)]
            again = store_counts(cluster.env["NEWSMON_DATABASE_URL"], today, DESK)
            check(again.articles == first.articles, f"nothing new stored ({again.articles})")
            check(again.entries == first.entries, f"no entry queued twice ({again.entries})")
            check(again.duplicates == 0, f"no duplicate rows ({again.duplicates})")
            check(len(inbox.to(DESK)) == mails, "no second mail")
            hosts = newsmon_hosts(cluster, runs)
            print(f"  task tries per worker: {hosts}", flush=True)
            final = again
            if args.kill_worker:
                print("pass 3: SIGKILL a worker in the middle of an ingest shard", flush=True)
                kill_pass(cluster, site, feeds, slow)
                final = store_counts(cluster.env["NEWSMON_DATABASE_URL"], today, DESK)
                check(final.articles == first.articles + 1, f"late page stored ({final.articles})")
                check(slow.count >= 2, f"the late page was fetched again ({slow.count} requests)")
                check(final.duplicates == 0, f"no duplicate rows ({final.duplicates})")
                check(len(inbox.to(DESK)) == mails, "still no second mail")
            check(len(hosts) == args.workers, f"{len(hosts)} workers ran newsmon tasks")
            return (
                _figures(args, hosts, final, len(inbox.to(DESK)), time.monotonic() - started),
                "",
            )
        except (Failed, ClusterError) as exc:
            return (
                _figures(
                    args,
                    _hosts_or_none(cluster, runs),
                    None,
                    len(inbox.to(DESK)),
                    time.monotonic() - started,
                ),
                f"{type(exc).__name__}: {exc}\n{cluster.diagnostics()}",
            )
        finally:
            cluster.stop()
            # reused databases belong to the run that made them: never dropped here
            if not (args.keep_databases or args.reuse_databases):
                cluster.drop_databases()


def _hosts_or_none(cluster: Cluster, runs: list[tuple[str, str]]) -> dict[str, int]:
    try:
        return newsmon_hosts(cluster, runs)
    except Exception:  # the cluster may be why the test failed: report what is known
        return {}


def _figures(
    args: argparse.Namespace,
    hosts: dict[str, int],
    counts: StoreCounts | None,
    sent: int,
    seconds: float,
) -> dict[str, Any]:
    return {
        "workers": args.workers,
        "workers_used": len(hosts),
        "articles": counts.articles if counts else 0,
        "duplicates": counts.duplicates if counts else 0,
        "digests_sent": sent,
        "seconds": round(seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kill-worker", action="store_true", help="also run scenario 3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="task slots per worker")
    parser.add_argument("--shards", type=int, default=2, help="NEWSMON_INGEST_SHARDS")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("SCALE_REDIS_DB", 11)))
    parser.add_argument("--name", default=f"newsmon_scale_{os.getpid()}", help="database prefix")
    parser.add_argument("--keep-databases", action="store_true", help="do not drop them at the end")
    parser.add_argument(
        "--reuse-databases",
        action="store_true",
        help="run on the databases a --keep-databases run with the same --name left",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--site-port", type=int, default=0, help="port of the loopback news site (0: any free)"
    )
    args = parser.parse_args(argv)
    if args.reuse_databases and (args.kill_worker or not args.site_port):
        parser.error("--reuse-databases needs the --site-port of the first run, not --kill-worker")
    missing = services_missing()
    if missing:
        print(f"scale-test: cannot run: {missing}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="newsmon-scale-"))
    try:
        figures, error = scenario(args, root)
    finally:
        if not args.keep_logs:
            shutil.rmtree(root, ignore_errors=True)
    if error:
        print(f"scale-test FAILED: {error}", file=sys.stderr)
    print("scale-test: " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
