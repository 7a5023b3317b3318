"""Write tests/fixtures/extraction/split.csv: every corpus page to `dev` or `heldout` by site.

A page's half is decided by its registered domain only (sha256 of the domain, even first byte =
dev), so the split is deterministic, independent of the extractor, and keeps a publisher's pages
on one side. Rules and thresholds are written from `dev` pages; `heldout` is only scored.
With --copy it also copies the held-out pages (gzipped) and their gold entries into
tests/fixtures/extraction/corpus, so the held-out tests run without ../shared.

Usage: .venv/bin/python bench/make_split.py [--corpus DIR] [--copy]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.extraction_corpus import (  # noqa: E402
    SHARED,
    SPLIT,
    SUBSET,
    all_pages,
    site_of_page,
)


def half_of(domain: str) -> str:
    """`dev` or `heldout` for a registered domain (stable across runs and machines)."""
    return "dev" if hashlib.sha256(domain.encode()).digest()[0] % 2 == 0 else "heldout"


def copy_heldout(root: Path, keys: set[str]) -> None:
    """Copy held-out pages and their gold into the fixture subset (existing files kept)."""
    for page in all_pages(root):
        if page.key not in keys:
            continue
        target = SUBSET / page.path.relative_to(root)
        if target.suffix != ".gz":
            target = target.with_name(target.name + ".gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(gzip.compress(page.html(), mtime=0))
        if page.source == "mozilla-readability":
            for name in ("expected.html", "expected-metadata.json"):
                shutil.copyfile(page.path.parent / name, target.parent / name)
    names = {k.rsplit("/", 1)[-1] for k in keys}
    for rel, keep in (
        ("trafilatura-eval/evaldata.json", lambda e: e["file"] in names),
        ("htmldate-eval/eval_default.json", lambda e: e["file"] in names),
    ):
        full = json.loads((root / rel).read_text(encoding="utf-8"))
        mine_path = SUBSET / rel
        mine = json.loads(mine_path.read_text(encoding="utf-8")) if mine_path.exists() else {}
        mine.update({k: v for k, v in full.items() if keep(v)})
        mine_path.write_text(json.dumps(mine, ensure_ascii=False, indent=1), encoding="utf-8")
    shas = {k.rsplit("/", 1)[-1] for k in keys if k.startswith("scrapinghub-aeb/")}
    gold_path = SUBSET / "scrapinghub-aeb" / "ground-truth.json"
    full = json.loads((root / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    mine = json.loads(gold_path.read_text(encoding="utf-8")) if gold_path.exists() else {}
    mine.update({k: v for k, v in full.items() if k in shas})
    gold_path.write_text(json.dumps(mine, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED)
    parser.add_argument("--copy", action="store_true")
    args = parser.parse_args()
    rows = []
    for page in all_pages(args.corpus):
        domain = site_of_page(page)
        rows.append({"key": page.key, "domain": domain, "half": half_of(domain)})
    rows.sort(key=lambda r: r["key"])
    with SPLIT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["key", "domain", "half"])
        writer.writeheader()
        writer.writerows(rows)
    for half in ("dev", "heldout"):
        mine = [r for r in rows if r["half"] == half]
        print(f"{half}: {len(mine)} pages, {len({r['domain'] for r in mine})} sites")
    if args.copy:
        copy_heldout(args.corpus, {r["key"] for r in rows if r["half"] == "heldout"})


if __name__ == "__main__":
    main()
