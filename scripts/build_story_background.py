"""Build the bundled background document frequencies for story term weights (issue 13).

A young database has seen too few articles to know that "Präsident",
"government" or "reporters" are common words; their weight then comes from
this table: document frequencies of every story key (terms, names, numbers
as pipeline.enrich.story_profile.stat_terms counts them) over general news
pages that are in no labelled set of the project: the 100 pages of
trafilatura's evaluation set in the shared corpus (73 German, 27 English;
see its README for origin and licence), extracted with trafilatura. Only
counts are stored (keys seen in at least MIN_DF pages), never text.

Run: .venv/bin/python scripts/build_story_background.py [CORPUS_DIR]
(default: ../shared/corpus/trafilatura-eval beside the checkout); writes
pipeline/enrich/data/story_background.tsv.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.enrich import story_profile as sp  # noqa: E402
from pipeline.enrich import story_similarity as similarity  # noqa: E402
from tests.support.extraction_corpus import SHARED  # noqa: E402

OUT = ROOT / "pipeline" / "enrich" / "data" / "story_background.tsv"
MIN_DF = 2


def main(argv: list[str]) -> int:
    """Count the keys of every page of the corpus folder and write the table."""
    corpus = Path(argv[0]) if argv else SHARED / "trafilatura-eval"
    df: Counter[str] = Counter()
    docs = 0
    with (corpus / "manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        html = (corpus / row["path"]).read_text(encoding="utf-8", errors="replace")
        text = trafilatura.extract(html)
        if not text:
            continue
        lang = row["lang_guess"] or None
        df.update(sp.stat_terms(similarity.features(None, text, lang=lang)))
        docs += 1
    kept = sorted((k, n) for k, n in df.items() if n >= MIN_DF and k)
    with OUT.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f"# story key document frequencies over {docs} pages of {corpus.name}\n")
        out.write("# built by scripts/build_story_background.py; keys seen in fewer than ")
        out.write(f"{MIN_DF} pages left out\n")
        out.write(f"\t{docs}\n")
        for k, n in kept:
            out.write(f"{k}\t{n}\n")
    print(f"{docs} pages, {len(kept)} keys -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
