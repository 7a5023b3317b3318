"""Parse time of each DAG file, as the DAG processor sees it.

Each file is parsed in a fresh subprocess that has already imported what the
DAG processor has loaded (airflow.sdk, the DagBag machinery), so the figure is
the file's own cost. The baseline is a trivial one-task TaskFlow DAG parsed
the same way. Airflow's guide asks for well under a second per file; the
processor re-parses every file every `[dag_processor] min_file_process_interval`.

Usage: .venv/bin/python bench/bench_dag_parse.py [--repeat N]
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"

BASELINE = """
from datetime import datetime
from airflow.sdk import dag, task

@dag(dag_id="baseline", schedule=None, start_date=datetime(2024, 1, 1))
def baseline():
    @task
    def hello():
        return 1
    hello()

baseline()
"""

_MEASURE = r"""
import json, sys, time
import airflow.sdk  # loaded by the DAG processor before it parses any file
from airflow.dag_processing.dagbag import BundleDagBag
folder, path = sys.argv[1], sys.argv[2]
before = set(sys.modules)
t = time.perf_counter()
bag = BundleDagBag(dag_folder=path, bundle_path=folder, bundle_name="bench")
seconds = time.perf_counter() - t
assert not bag.import_errors, bag.import_errors
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print("BENCH " + json.dumps({"seconds": seconds, "dags": len(bag.dags), "new_modules": new}))
"""


def measure(folder: Path, path: Path, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(folder), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            result: dict[str, object] = json.loads(line.removeprefix("BENCH "))
            return result
    raise SystemExit(f"parsing {path} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(Path(tmp) / "airflow"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            }
        )
        base_dir = Path(tmp) / "baseline"
        base_dir.mkdir()
        (base_dir / "baseline_dag.py").write_text(BASELINE)
        files = [(base_dir, base_dir / "baseline_dag.py")]
        files += [(DAGS, p) for p in sorted(DAGS.glob("newsmon_*.py"))]
        print(f"{'file':<24} {'median ms':>10} {'min ms':>8}  dags  modules imported by the file")
        for folder, path in files:
            runs = [measure(folder, path, env) for _ in range(args.repeat)]
            times = [float(str(r["seconds"])) * 1000 for r in runs]
            new = runs[0]["new_modules"]
            print(
                f"{path.name:<24} {statistics.median(times):>10.1f} {min(times):>8.1f}  "
                f"{runs[0]['dags']:>4}  {', '.join(new) if isinstance(new, list) else new}"
            )


if __name__ == "__main__":
    main()
