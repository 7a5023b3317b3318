"""scripts/airflow_standalone.py: a component that dies is restarted; one that keeps dying
stops the monitor; a stop ends the component and its supervisor.

The component is a stand-in `airflow` executable on the component's PATH (as standalone
starts `airflow scheduler` and the like), so these run in seconds; the real scheduler
killed under the real standalone is part of tests/dags/test_airflow_backfill.py.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from collections import deque
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.polling import wait_until
from tests.support.procs import running

# exits with code 1 on its first FAILS starts (counted in a file), then runs until stopped
_COMPONENT = """#!/bin/sh
n=$(cat "$COUNT" 2>/dev/null || echo 0)
echo $((n + 1)) >"$COUNT"
echo "component start $((n + 1)) $*"
if [ "$n" -lt "$FAILS" ]; then
    # a helper that outlives it and keeps its output open, as a scheduler's workers do
    if [ -n "$LEFTOVER" ]; then sleep 300 & echo $! >>"$LEFTOVER"; fi
    exit 1
fi
exec sleep 300
"""


@pytest.fixture
def standalone(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "airflow_standalone", ROOT / "scripts" / "airflow_standalone.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "FIRST_PAUSE_S", 0.05)
    monkeypatch.setattr(module, "MAX_PAUSE_S", 0.2)
    module.SupervisedSubCommand.gave_up.clear()
    module.SupervisedSubCommand.started.clear()
    return module


class _Parent:
    """What a component's supervisor uses of standalone: its output queue and printers."""

    def __init__(self) -> None:
        self.output_queue: deque[tuple[str, bytes]] = deque()
        self.printed: list[str] = []

    def update_output(self) -> None:
        while self.output_queue:
            name, line = self.output_queue.popleft()
            self.printed.append(f"{name}: {line.decode().strip()}")

    def print_error(self, name: str, output: str) -> None:
        self.printed.append(f"{name}: {output}")

    def lines(self) -> list[str]:
        self.update_output()
        return self.printed


def _component(
    module: ModuleType, tmp_path: Path, fails: int, leftover: Path | None = None
) -> tuple[Any, _Parent, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "airflow"
    fake.write_text(_COMPONENT)
    fake.chmod(0o755)
    count = tmp_path / "starts"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COUNT": str(count),
        "FAILS": str(fails),
        "LEFTOVER": str(leftover or ""),
    }
    parent = _Parent()
    return module.SupervisedSubCommand(parent, "scheduler", ["scheduler"], env), parent, count


def test_a_component_that_dies_is_restarted_and_a_stop_ends_it(
    standalone: ModuleType, tmp_path: Path
) -> None:
    sub, parent, count = _component(standalone, tmp_path, fails=2)
    sub.start()
    assert wait_until(lambda: count.exists() and count.read_text().strip() == "3", 20)
    assert wait_until(lambda: sub.process is not None and sub.process.poll() is None, 20)
    component = sub.process
    assert sub.restarts == 2
    restarts = [line for line in parent.lines() if "restarting it" in line]
    assert len(restarts) == 2, parent.lines()
    assert restarts[0].startswith("standalone: scheduler exited (code 1)")
    sub.stop()
    sub.join(timeout=20)
    assert not sub.is_alive()
    assert component.poll() is not None  # stopped, and not started again
    assert count.read_text().strip() == "3"
    assert not standalone.SupervisedSubCommand.gave_up.is_set()


def test_a_component_that_dies_leaving_helpers_behind_is_restarted_without_them(
    standalone: ModuleType, tmp_path: Path
) -> None:
    leftover = tmp_path / "leftover-pids"
    sub, _parent, count = _component(standalone, tmp_path, fails=1, leftover=leftover)
    sub.start()
    try:
        assert wait_until(lambda: count.exists() and count.read_text().strip() == "2", 20)
        helpers = [int(p) for p in leftover.read_text().split()]
        assert helpers
        assert wait_until(lambda: not any(running(p) for p in helpers), 20)
        assert sub.restarts == 1
    finally:
        sub.stop()
        sub.join(timeout=30)
    assert not sub.is_alive()


def test_a_component_that_keeps_dying_stops_the_monitor(
    standalone: ModuleType, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sub, parent, count = _component(standalone, tmp_path, fails=1000)
    # the supervisor interrupts the main thread, as Ctrl-C would, so standalone stops the rest.
    # main() installs its own SIGINT handler; here the test does, since a run started in the
    # background inherits SIGINT ignored, and interrupt_main() then does nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    with pytest.raises(KeyboardInterrupt):
        sub.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.02)
    sub.join(timeout=20)
    assert standalone.SupervisedSubCommand.gave_up.is_set()
    assert count.read_text().strip() == str(standalone.MAX_QUICK_FAILURES)
    assert any("stopping the monitor" in line for line in parent.lines()), parent.lines()


def test_stop_all_ends_every_component_started_so_far(
    standalone: ModuleType, tmp_path: Path
) -> None:
    # what runs when a signal interrupts standalone outside its main loop
    sub, _parent, _count = _component(standalone, tmp_path, fails=0)
    unstarted = standalone.SupervisedSubCommand(_Parent(), "triggerer", ["triggerer"], {})
    sub.start()
    assert wait_until(lambda: sub.process is not None and sub.process.poll() is None, 20)
    component = sub.process
    standalone.stop_all()
    assert not sub.is_alive() and component.poll() is not None
    assert unstarted.process is None
