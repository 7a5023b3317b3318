"""`airflow standalone` that restarts a component when it dies, and stops on SIGTERM.

`make run` leaves the monitor unattended, but plain standalone never looks at its components
again once they are started: when the scheduler exits (on SQLite it can die of a
`StaleDataError` when a UI backfill races its loop, apache/airflow#63926 and alike), the UI
stays up, nothing is scheduled any more and nobody is told. Here each component runs under a
supervisor thread that restarts it with a growing pause (1 s doubling to 16 s) and says so in
the output. Each component runs in its own process group: its exit is what counts (a
scheduler killed by the OOM killer leaves its LocalExecutor workers and log server behind,
holding its output open), and what it leaves behind gets SIGTERM, then SIGKILL, before it
starts again. A component that dies five times in a row, each time within a minute of its
start (a port taken, a broken configuration), stops the whole monitor with exit code 1: a
loud stop beats a UI that looks healthy over a dead scheduler.

Plain standalone also stops its components only on Ctrl-C and, started in the background,
ignores SIGINT; on SIGTERM it exits and leaves them running. Here SIGTERM and SIGINT both
stop every component and then the monitor (what `make stop` sends).

Everything else is Airflow's own `airflow standalone`: this only replaces the class that
runs each component and then calls Airflow's CLI entry point.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any, ClassVar

from airflow.cli.commands import standalone_command

#: a component that ran at least this long before it died was healthy: its next restart
#: is immediate again and its failure count starts over
HEALTHY_AFTER_S = 60.0
MAX_QUICK_FAILURES = 5
FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 16.0
#: how long a component's leftovers get after SIGTERM (and then after SIGKILL)
GROUP_GRACE_S = 10.0


class SupervisedSubCommand(standalone_command.SubCommand):
    """One component (`airflow scheduler`, ...), restarted whenever it exits unasked."""

    gave_up: ClassVar[threading.Event] = threading.Event()
    started: ClassVar[list[SupervisedSubCommand]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        SupervisedSubCommand.started.append(self)
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a stop never misses a process started meanwhile
        self.restarts = 0

    def _say(self, text: str) -> None:
        self.parent.output_queue.append(("standalone", text.encode()))

    def run(self) -> None:
        quick_failures = 0
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                started = time.monotonic()
                # its own process group, so that what it leaves behind can be found (below)
                self.process = process = subprocess.Popen(
                    ["airflow", *self.command],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    process_group=0,
                )
            pump = threading.Thread(target=self._pump, args=(process,), daemon=True)
            pump.start()
            # the exit, not the end of the output: a scheduler killed by the OOM killer
            # leaves its LocalExecutor workers and log server running on its stdout
            code = process.wait()
            self._end_group(process.pid)
            pump.join(timeout=5)
            if self._stopping.is_set():
                return
            lived = time.monotonic() - started
            quick_failures = quick_failures + 1 if lived < HEALTHY_AFTER_S else 1
            if quick_failures >= MAX_QUICK_FAILURES:
                # printed at once: the main loop stops printing the queue when interrupted
                self.parent.update_output()
                self.parent.print_error(
                    "standalone",
                    f"{self.name} exited (code {code}) {quick_failures} times in a row within "
                    f"{HEALTHY_AFTER_S:.0f} s of starting (its output above says why); "
                    "stopping the monitor",
                )
                sys.stdout.flush()
                SupervisedSubCommand.gave_up.set()
                _thread.interrupt_main()  # the main loop's Ctrl-C path stops the others
                return
            pause = min(FIRST_PAUSE_S * 2 ** (quick_failures - 1), MAX_PAUSE_S)
            self.restarts += 1
            self._say(
                f"{self.name} exited (code {code}) after {lived:.0f} s; "
                f"restarting it in {pause:.0f} s (restart {self.restarts})"
            )
            if self._stopping.wait(pause):
                return

    def _pump(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.parent.output_queue.append((self.name, line))

    @staticmethod
    def _end_group(pgid: int) -> None:
        """SIGTERM, then SIGKILL, to what is left of a component's process group."""
        for sig, grace in ((signal.SIGTERM, GROUP_GRACE_S), (signal.SIGKILL, GROUP_GRACE_S)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            if self.process is not None:
                self.process.terminate()


def stop_all() -> None:
    """Stop every component and wait for it, whatever standalone itself got to do."""
    for sub in SupervisedSubCommand.started:
        sub.stop()
    for sub in SupervisedSubCommand.started:
        if sub.ident is not None:
            sub.join()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even when started in the background
    # run() builds its components from this module global; replacing it is the whole change
    standalone_command.SubCommand = SupervisedSubCommand  # type: ignore[misc]
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "standalone"]
    try:
        # a signal outside standalone's main loop (while it starts its components, say)
        # ends it here, past its own stop: the components are stopped below either way
        with contextlib.suppress(KeyboardInterrupt):
            airflow_main()
    finally:
        stop_all()
    return 1 if SupervisedSubCommand.gave_up.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
