"""A newcomer's path: `make demo` in a fresh clone, without the test extras.

Clones the committed repository into a temporary folder, runs the README's
`make demo` there (its own .venv with newsmon's dependencies only) and checks
that the demo wrote a digest, that pytest is not installed in that venv (so the
demo cannot lean on tests/support), and that `make shell`'s newsmon works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_make_demo_from_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("git and make are needed")
    clone = tmp_path / "newsmon"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSMON_", "VIRTUAL_ENV"))}
    env["NEWSMON_DEMO_HOME"] = str(tmp_path / "demo")
    done = _run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], tmp_path, env)
    assert done.returncode == 0, done.stderr

    demo = _run(["make", "demo"], clone, env)
    assert demo.returncode == 0, (demo.stdout + demo.stderr)[-3000:]
    assert "articles_stored=4" in demo.stdout
    txt = next(Path(w) for w in demo.stdout.split() if w.endswith(".txt"))
    assert txt.is_file() and "Kim Jong Un" in txt.read_text(encoding="utf-8")

    python = clone / ".venv" / "bin" / "python"
    no_pytest = _run([str(python), "-c", "import pytest"], clone, env)
    assert no_pytest.returncode != 0 and "No module named 'pytest'" in no_pytest.stderr

    # the demo's closing hint works as printed
    check = _run(
        [
            str(clone / ".venv" / "bin" / "newsmon"),
            "--home",
            str(tmp_path / "demo"),
            "feeds",
            "check",
        ],
        clone,
        env,
    )
    assert check.returncode == 0, check.stderr
    assert "tagesschau (fixture)" in check.stdout
