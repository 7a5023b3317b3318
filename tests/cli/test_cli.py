"""The newsmon command: contract and one-line errors (run as a real subprocess)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import run_newsmon as _run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    e["NEWSMON_HOME"] = str(tmp_path / "home")
    return e


def test_init_then_export_seeds(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(["init"], env, tmp_path).returncode == 0
    out = _run(["export", "--all", "--with-text"], env, tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 5
    required = {
        "id", "url", "canonical_url", "title", "source", "language", "published_at",
        "fetched_at", "is_seed", "seed_name", "relevant", "relevance_score", "duplicate_of",
        "duplicate_kind", "story_id", "actors", "text_chars", "text",
    }  # fmt: skip
    for row in rows:
        assert required <= row.keys()
        assert row["is_seed"] and row["seed_name"].endswith(".txt")
        assert row["text_chars"] == len(row["text"])
        assert all({"id", "name", "type", "country"} <= a.keys() for a in row["actors"])


@pytest.mark.parametrize(
    ("args", "extra_env", "needle"),
    [
        (["digest", "--date", "19.11.2026"], {}, "bad date"),
        (["reprocess", "--since", "2026-11-02", "--until", "2026-11-01"], {}, "before"),
        (["init"], {"NEWSMON_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, "unreachable"),
        (["init"], {"NEWSMON_FEEDS": "/nonexistent/feeds.yaml"}, "feeds.yaml"),
        (["init"], {"NEWSMON_TIMEZONE": "Mars/Olympus"}, "time zone"),
        (["frobnicate"], {}, "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(
    env: dict[str, str], tmp_path: Path, args: list[str], extra_env: dict[str, str], needle: str
) -> None:
    result = _run(args, {**env, **extra_env}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsmon: error:") and needle in lines[0]
