"""The CPU pool: passes on one machine share its workers; workers start under any __main__."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pipeline.ingest.pool import HostShare, pool_size
from pipeline.pages import date_parser
from tests.support.paths import ROOT


def test_passes_on_one_machine_share_its_workers(tmp_path: Path) -> None:
    with HostShare(tmp_path) as first:
        assert first.passes() == 1
        with HostShare(tmp_path) as second:
            assert first.passes() == second.passes() == 2
            assert pool_size(2, first.passes()) == 1
            assert pool_size(8, first.passes()) == 4
        assert first.passes() == 1
        assert pool_size(2, first.passes()) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_killed_pass_stops_counting(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.ingest.pool import HostShare\n"
        "with HostShare(Path(sys.argv[1])):\n"
        "    print('registered', flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "registered"
        with HostShare(tmp_path) as mine:
            assert mine.passes() == 2
            os.kill(proc.pid, signal.SIGKILL)  # no clean-up: its file stays behind
            proc.wait()
            assert mine.passes() == 1
        # the dead pass's file was removed by the count
        assert list(tmp_path.iterdir()) == []
    finally:
        proc.kill()
        proc.wait()


def test_workers_start_under_a_main_module_that_must_not_be_imported_again(
    tmp_path: Path,
) -> None:
    # An Airflow task's __main__ (the task runner) cannot be imported a second time
    # in a worker: this one refuses outright, so the pool works only if workers
    # never re-run the parent's main module.
    main = tmp_path / "task_runner.py"
    main.write_text(
        "import os, sys\n"
        "if __name__ != '__main__':\n"
        "    raise RuntimeError('main module imported again as ' + __name__)\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pipeline.config import Settings\n"
        "from pipeline.enrich.toolkit import Toolkit\n"
        "from pipeline.ingest.pool import started_pool\n"
        "kit = Toolkit.load(Settings.from_env({'NEWSMON_HOME': sys.argv[1]}))\n"
        "pool = started_pool(kit, 2)\n"
        "pids = {pool.submit(os.getpid).result() for _ in range(4)}\n"
        "print(type(pool).__name__, os.getpid() in pids)\n"
        "pool.shutdown()\n"
    )
    out = subprocess.run(
        [sys.executable, str(main), str(tmp_path / "home")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert out.stdout.split() == ["ProcessPoolExecutor", "False"], out.stderr[-2000:]


def test_workers_fork_with_the_date_parser_loaded(tmp_path: Path) -> None:
    # htmldate's fallback parser (pipeline/pages/date_parser.py) loads its locales at the
    # first date string none of them reads; the fork server does that once, so a worker
    # starts with all of them in and never loads one itself
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pipeline.config import Settings\n"
        "from pipeline.enrich.toolkit import Toolkit\n"
        "from pipeline.ingest.pool import started_pool\n"
        "from tests.support.pool_probe import loaded_date_locales\n"
        "kit = Toolkit.load(Settings.from_env({'NEWSMON_HOME': sys.argv[1]}))\n"
        "pool = started_pool(kit, 2)\n"
        "print(loaded_date_locales(), pool.submit(loaded_date_locales).result())\n"
        "pool.shutdown()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "home")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    here, worker = map(int, out.stdout.split())
    # the ingest process itself never parsed a date; the worker has every locale
    assert here == 0 and worker >= len(date_parser.LANGUAGES), out.stderr[-2000:]
