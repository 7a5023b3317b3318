"""Scale-out: one newsmon_ingest run on the CeleryExecutor with one worker, then with two.

For each worker count a fresh cluster (tests/support/celery_cluster.py:
PostgreSQL metadata + storage, Redis broker, api-server, scheduler,
dag-processor, triggerer, N Celery workers with one task slot each) ingests the
same loopback news site: FEEDS feeds x PAGES pages built from the bundled
fixture pages (tests/fixtures/e2e and tests/fixtures/extraction/corpus; each
copy gets a paragraph of its own so that no two are exact duplicates), every
page answered after LATENCY seconds like a remote server. NEWSMON_INGEST_SHARDS
is 4, so the run maps four ingest_shard tasks.

Prints, per worker count, the run's wall time from Airflow's own records
(dag run start -> end), the time spent in the mapped shards vs the serial
tasks (choose_mode, plan_shards, process_pending, announce_articles), the
machine's CPU use during the run, and the speed-up. Asserts nothing.

Needs PostgreSQL and Redis on 127.0.0.1 (like `make scale-test`).
Run: .venv/bin/python bench/bench_scale.py   (about 6 minutes on 2 cores)
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.celery_cluster import Cluster, services_missing  # noqa: E402
from tests.support.http_server import LoopbackServer, Response  # noqa: E402

FEEDS = 8
PAGES = 6
LATENCY = 0.3
SHARDS = 4
FIXTURES = ROOT / "tests" / "fixtures"


def fixture_pages() -> list[bytes]:
    """The bundled real pages (HTML bytes), plain and gzipped ones."""
    e2e = sorted((FIXTURES / "e2e").glob("*.html"))
    gz = sorted((FIXTURES / "extraction" / "corpus").rglob("*.html.gz"))
    return [p.read_bytes() for p in e2e] + [gzip.decompress(p.read_bytes()) for p in gz]


def serve(site: LoopbackServer) -> list[str]:
    """Register FEEDS feeds of PAGES slow pages each; the feed URLs."""
    pages = fixture_pages()
    site.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
    now = datetime.now().astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")
    feeds = []
    for f in range(FEEDS):
        items = []
        for p in range(PAGES):
            n = f * PAGES + p
            body = pages[n % len(pages)].replace(
                b"<body", f"<p>Meldung {n}: Bericht {n * 7919 % 10007}.</p><body".encode(), 1
            )
            path = f"/news/{f}/{p}.html"

            def slow(h: Any, req: Any, body: bytes = body) -> None:
                site.stopping.wait(LATENCY)
                h._send(Response(200, body, {"Content-Type": "text/html; charset=utf-8"}))

            site.add_raw(path, slow)
            items.append(
                f"<item><title>Meldung {n}</title><link>{site.url(path)}</link>"
                f"<guid>bench-{n}</guid><pubDate>{now}</pubDate></item>"
            )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>bench feed {f}</title><link>{site.base_url}/</link>"
            "<description>bench</description>" + "".join(items) + "</channel></rss>"
        )
        site.add_file(f"/feeds/{f}.xml", xml.encode(), content_type="application/rss+xml")
        feeds.append(site.url(f"/feeds/{f}.xml"))
    return feeds


def _cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _seconds(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def measure(workers: int, feeds_file: Path, root: Path) -> dict[str, Any]:
    cluster = Cluster(
        root / f"w{workers}",
        name=f"newsmon_bench_{os.getpid()}_{workers}",
        workers=workers,
        concurrency=1,
        extra_env={"NEWSMON_FEEDS": str(feeds_file), "NEWSMON_INGEST_SHARDS": str(SHARDS)},
    )
    try:
        cluster.create_databases()
        cluster.start()
        cluster.create_pool("newsmon_http", 8, "bench")
        busy0, total0 = _cpu_busy()
        # the scheduler's own first run (catchup=False: the latest 30-minute window) does it all
        cluster.unpause("newsmon_ingest")
        run = cluster.wait_for(
            "the first newsmon_ingest run",
            lambda: next(
                (
                    r
                    for r in cluster.api("GET", "/dags/newsmon_ingest/dagRuns")["dag_runs"]
                    if r["state"] in ("success", "failed")
                ),
                None,
            ),
            900,
        )
        busy1, total1 = _cpu_busy()
        tis = cluster.task_instances("newsmon_ingest", run["dag_run_id"])
        shard_s = [_seconds(t["start_date"], t["end_date"]) for t in tis if t["map_index"] >= 0]
        serial = sum(
            _seconds(t["start_date"], t["end_date"])
            for t in tis
            if t["map_index"] < 0 and t["state"] == "success"
        )
        return {
            "state": run["state"],
            "wall": _seconds(run["start_date"], run["end_date"]),
            "shards": len(shard_s),
            "shard_sum": sum(shard_s),
            "serial": serial,
            "hosts": len({t["hostname"] for t in tis if t.get("hostname")}),
            "cpu": (busy1 - busy0) / max(1.0, total1 - total0),
        }
    finally:
        cluster.stop()
        cluster.drop_databases()


def main() -> int:
    missing = services_missing()
    if missing:
        print(f"bench_scale: skipped: {missing}")
        return 0
    root = Path(tempfile.mkdtemp(prefix="newsmon-bench-scale-"))
    print(
        f"bench_scale: {FEEDS} feeds x {PAGES} pages ({LATENCY}s latency each), "
        f"{SHARDS} shards, 1 task slot per worker, {os.cpu_count()} cores"
    )
    try:
        with LoopbackServer() as site:
            urls = serve(site)
            feeds_file = root / "feeds.yaml"
            feeds_file.write_text(
                "feeds:\n"
                + "".join(f"  - name: bench {i}\n    url: {u}\n" for i, u in enumerate(urls))
            )
            results = {}
            for workers in (1, 2):
                started = time.monotonic()
                results[workers] = res = measure(workers, feeds_file, root)
                print(
                    f"  workers={workers}: run {res['state']} in {res['wall']:.1f}s "
                    f"(mapped shards {res['shards']}: {res['shard_sum']:.1f}s of task time, "
                    f"serial tasks {res['serial']:.1f}s), hosts used {res['hosts']}, "
                    f"machine CPU busy {res['cpu']:.0%}; with cluster start-up "
                    f"{time.monotonic() - started:.0f}s"
                )
            one, two = results[1]["wall"], results[2]["wall"]
            print(
                f"  speed-up 1 -> 2 workers: {one / two if two else 0:.2f}x "
                f"({one:.1f}s -> {two:.1f}s)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
