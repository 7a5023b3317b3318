"""End-to-end ingest throughput against trafilatura alone and a hand-written httpx loop.

Same real pages, same run: the trafilatura-eval pages of ../shared/corpus (or the
copied subset in tests/fixtures/extraction), repeated under distinct URLs up to
--pages, in ten feeds on ten loopback hosts (127.0.0.1-10), per-host delay 0,
robots off. Prints articles (pages) per second, CPU seconds per article (all
processes of the run: pool workers included) and peak PSS (proportional set size,
summed over the run's process tree: pages shared by the fork server's children are
counted once in all, not once per process as a sum of RSS would) for:

  trafilatura  bare_extraction(with_metadata=True) from memory, one process
  httpx-loop   httpx GET in 16 threads + the same extraction, nothing stored
  ingest-1     `newsmon ingest` with NEWSMON_WORKERS=1 (CPU work in one thread)
  ingest-pool  `newsmon ingest` with the default pool (one worker per core)
  shards-2     two concurrent `newsmon ingest --shard i --shards 2`
  empty pass   `newsmon ingest` again on ingest-pool's home (nothing due), median of
               5 runs: compiling every module at each start (PYTHONDONTWRITEBYTECODE=1
               and no .pyc), as installed by scripts/bootstrap.sh, and from .pyc
               files Python wrote itself

Targets (issue 14, 2 cores): ingest-pool >= 1.5x trafilatura's rate, shards-2 no
slower than ingest-pool, CPU per article <= 1.2x trafilatura's. --big N serves N
pages padded to just under the 8 MB page cap and reports ingest-pool's peak PSS
(target: < 600 MB for 5,000 such pages), and each process's own peak; the padding is
an HTML comment, or with --dense each page's own body repeated (real markup to the
cap: the costliest kind to parse). Asserts nothing.
Usage: .venv/bin/python bench/bench_ingest.py [--pages 300] [--big 0 [--dense]]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.support.extraction_corpus import default_root, dense_page, snippet_pages  # noqa: E402
from tests.support.http_server import LoopbackServer, Response, loopback_servers  # noqa: E402

FEEDS = 10
CAP = 8 * 1024 * 1024


@dataclass
class Figure:
    name: str
    pages: int
    seconds: float
    cpu: float
    pss_mb: float

    def line(self, base: Figure | None) -> str:
        rate = self.pages / self.seconds
        cpu_ms = self.cpu / max(self.pages, 1) * 1000
        rel = ""
        if base is not None:
            rel = (
                f"  rate {rate / (base.pages / base.seconds):4.2f}x  "
                f"cpu {cpu_ms / (base.cpu / base.pages * 1000):4.2f}x"
            )
        return (
            f"{self.name:12s} {self.pages:5d} pages {rate:7.1f} /s  "
            f"{cpu_ms:6.1f} ms CPU/page  peak PSS {self.pss_mb:7.1f} MB{rel}"
        )


class TreeSampler:
    """Samples CPU time and PSS of a process and all its descendants."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.cpu: dict[int, float] = {}
        self.peak_pss = 0
        # per process: (role, peak PSS, peak RSS), to say where the memory is
        self.peaks: dict[int, tuple[str, int, int]] = {}
        # the sampler's own CPU (reading smaps is not free): taken out of the
        # in-process figures, whose process it shares
        self.own_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        start = time.thread_time()
        while not self._stop.wait(0.1):
            self.sample()
        self.own_cpu = time.thread_time() - start

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        pss = 0
        for p in procs:
            try:
                t = p.cpu_times()
                self.cpu[p.pid] = t.user + t.system
                # PSS splits each shared page among the processes mapping it
                mem = p.memory_full_info()
                pss += mem.pss
                role, top_pss, top_rss = self.peaks.get(p.pid) or (_role(p), 0, 0)
                self.peaks[p.pid] = (role, max(top_pss, mem.pss), max(top_rss, mem.rss))
            except psutil.Error:
                continue
        self.peak_pss = max(self.peak_pss, pss)

    def cpu_total(self, exclude: float = 0.0) -> float:
        return sum(self.cpu.values()) - exclude

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds summed per kind of process (ingest, fork server, worker, ...)."""
        roles: dict[str, float] = {}
        for pid, cpu in self.cpu.items():
            role = self.peaks.get(pid, ("?", 0, 0))[0]
            roles[role] = roles.get(role, 0.0) + cpu
        return roles


def _role(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())
        parent = p.parent()
        above = " ".join(parent.cmdline()) if parent is not None else ""
    except psutil.Error:
        return "?"
    if "forkserver" in cmd:
        # the workers are forked from the fork server: same command line, its children
        return "worker" if "forkserver" in above else "fork server"
    if "resource_tracker" in cmd:
        return "res. tracker"
    if "ingest" in cmd:
        return "ingest"
    return p.name()


def load_pages(n: int, big: bool, dense: bool = False) -> list[bytes]:
    base = [page.html() for page in snippet_pages(default_root())]
    if big and dense:
        base = [dense_page(p, CAP - 64 * 1024) for p in base]
    elif big:
        pad = b"<!-- " + b"x" * (CAP - 64 * 1024 - max(len(p) for p in base)) + b" -->"
        # padded once per distinct page: the list repeats the same objects, so the
        # bench itself holds len(base) big bodies, not n
        base = [p.replace(b"</body>", pad + b"</body>", 1) for p in base]
    return [base[i % len(base)] for i in range(n)]


def serve(servers: list[LoopbackServer], pages: list[bytes]) -> tuple[list[str], list[str]]:
    """Pages round robin over the servers, one RSS feed per server. (page urls, feed urls)."""
    page_urls: list[str] = []
    items: dict[int, list[str]] = {i: [] for i in range(len(servers))}
    for n, body in enumerate(pages):
        i = n % len(servers)
        path = f"/a/{n}.html"
        servers[i].add_route(
            path, lambda req, b=body: Response(200, b, {"Content-Type": "text/html"})
        )
        url = servers[i].url(path)
        page_urls.append(url)
        items[i].append(f"<item><title>Artikel {n}</title><link>{url}</link></item>")
    feed_urls = []
    for i, srv in enumerate(servers):
        rss = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>'
            f"<link>{srv.url('/')}</link><description>x</description>"
            f"{''.join(items[i])}</channel></rss>"
        ).encode()
        srv.add_file("/feed.xml", rss, content_type="application/rss+xml")
        feed_urls.append(srv.url("/feed.xml"))
    return page_urls, feed_urls


def in_process(name: str, pages: int, fn: Callable[[], None]) -> Figure:
    me = psutil.Process()
    before = me.cpu_times()
    with TreeSampler(me) as sampler:
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
    after = me.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system) - sampler.own_cpu
    return Figure(name, pages, seconds, cpu, sampler.peak_pss / 2**20)


def run_ingest(
    name: str,
    feeds: list[str],
    pages: int,
    env_extra: dict[str, str],
    shards: int = 1,
    peaks: bool = False,
) -> tuple[Figure, dict[str, str]]:
    home = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    feed_file = home / "feeds.yaml"
    lines = ["feeds:"] + [f"  - name: Feed {i}\n    url: {u}" for i, u in enumerate(feeds)]
    feed_file.write_text("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "NEWSMON_HOME": str(home),
        "NEWSMON_FEEDS": str(feed_file),
        "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
        "NEWSMON_PER_HOST_DELAY": "0",
        "NEWSMON_RESPECT_ROBOTS": "0",
        "NEWSMON_FEED_BUDGET": str(pages + 1),
        **env_extra,
    }
    cmd = [sys.executable, "-m", "pipeline"]
    subprocess.run([*cmd, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    # a parent shell for the run(s) so one sampler sees every process of it
    script = (
        " & ".join(
            " ".join(
                [
                    *cmd,
                    "ingest",
                    *(["--shard", str(i), "--shards", str(shards)] if shards > 1 else []),
                ]
            )
            for i in range(shards)
        )
        + " & wait"
    )
    start = time.perf_counter()
    proc = psutil.Popen(
        ["/bin/sh", "-c", script],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    with TreeSampler(proc) as sampler:
        _, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(err.decode()[-2000:], file=sys.stderr)
    stored = _stored(home)
    # where the CPU went: the ingesting process(es) against the pool's workers
    split = ", ".join(
        f"{role} {cpu / max(stored, 1) * 1000:.1f}"
        for role, cpu in sorted(sampler.cpu_by_role().items(), key=lambda kv: -kv[1])
        if cpu >= 0.05
    )
    print(f"{name}: ms CPU a page by process: {split}")
    if peaks:
        for pid, (role, top, rss) in sorted(sampler.peaks.items()):
            print(
                f"  {role:12s} pid {pid}: peak PSS {top / 2**20:6.1f} MB, RSS {rss / 2**20:6.1f} MB"
            )
    return Figure(name, stored, seconds, sampler.cpu_total(), sampler.peak_pss / 2**20), env


def empty_pass(env: dict[str, str], mode: str, runs: int = 5) -> str:
    """Median wall and CPU seconds of `newsmon ingest` when nothing is due (feeds just polled).

    ``mode`` "source" runs with PYTHONDONTWRITEBYTECODE=1 and an empty bytecode
    cache (its own PYTHONPYCACHEPREFIX), so every module (newsmon's and the
    libraries') is compiled at each start, as it was before scripts/bootstrap.sh
    compiled them; "installed" runs in the environment as it is, with the .pyc
    files the install wrote (what `make run` and CI get); "pyc" lets Python write
    its own .pyc files into an empty cache (one warm-up run) and reuse them.
    """
    env = dict(env)
    if mode != "installed":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench-pyc-")
    if mode == "source":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [sys.executable, "-m", "pipeline", "ingest"]
    if mode == "pyc":
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    walls, cpus = [], []
    for _ in range(runs):
        start = time.perf_counter()
        before = os.times()
        out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        after = os.times()
        walls.append(time.perf_counter() - start)
        cpus.append(
            (after.children_user - before.children_user)
            + (after.children_system - before.children_system)
        )
        assert "nothing to do" in out.stderr + out.stdout, out.stderr[-500:]
    walls.sort()
    cpus.sort()
    label = {
        "source": "from source",
        "installed": "as installed",
        "pyc": "own .pyc",
    }[mode]
    return (
        f"empty pass   ({label}): median {walls[runs // 2]:.2f} s wall, "
        f"{cpus[runs // 2]:.2f} s CPU over {runs} runs"
    )


def _stored(home: Path) -> int:
    import sqlite3

    with sqlite3.connect(home / "newsmon.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM article WHERE NOT is_seed").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--big", type=int, default=0, help="N pages near the size cap")
    parser.add_argument(
        "--dense", action="store_true", help="with --big: pad with the page's own markup"
    )
    args = parser.parse_args()
    big = args.big > 0
    n = args.big if big else args.pages
    pages = load_pages(n, big, args.dense)
    print(
        f"{n} pages, {sum(map(len, pages)) / 2**20:.1f} MB, {FEEDS} feeds on "
        f"{FEEDS} loopback hosts, {os.cpu_count()} cores, {_load()}"
    )
    with loopback_servers(FEEDS) as servers:
        page_urls, feed_urls = serve(servers, pages)
        if big:
            # one pass over all of them: no time budget cutting it short
            long_pass = {"NEWSMON_PASS_SECONDS": "86400"}
            print(run_ingest("ingest-pool", feed_urls, n, long_pass, peaks=True)[0].line(None))
            print(f"at the end: {_load()}")
            return

        def bare() -> None:
            for body, url in zip(pages, page_urls, strict=True):
                trafilatura.bare_extraction(body, url=url, with_metadata=True)

        def loop() -> None:
            with httpx.Client(trust_env=False, limits=httpx.Limits(max_connections=16)) as c:

                def one(url: str) -> None:
                    trafilatura.bare_extraction(c.get(url).content, url=url, with_metadata=True)

                with ThreadPoolExecutor(16) as ex:
                    list(ex.map(one, page_urls))

        trafilatura.bare_extraction(pages[0], url=page_urls[0], with_metadata=True)  # warm-up
        base = in_process("trafilatura", n, bare)
        one, _ = run_ingest("ingest-1", feed_urls, n, {"NEWSMON_WORKERS": "1"})
        pool, pool_env = run_ingest("ingest-pool", feed_urls, n, {})
        shards, _ = run_ingest("shards-2", feed_urls, n, {}, shards=2)
        figures = [base, in_process("httpx-loop", n, loop), one, pool, shards]
        # the pool run's home again: every feed was just polled, every page stored
        empties = [empty_pass(pool_env, mode) for mode in ("source", "installed", "pyc")]
    for f in figures:
        print(f.line(base))
    for line in empties:
        print(line)
    print(f"at the end: {_load()}")


def _load() -> str:
    # other work on the machine slows every figure (the baseline too); say how much there was
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


if __name__ == "__main__":
    main()
