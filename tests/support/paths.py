"""Where the project's files are, for tests in any folder of tests/."""

from pathlib import Path

#: The repository root.
ROOT = Path(__file__).resolve().parents[2]
#: tests/fixtures: real third-party data copied in, each folder with a provenance README.
FIXTURES = ROOT / "tests" / "fixtures"
#: The bundled seed corpus and configuration.
SEEDS = ROOT / "seeds"
