"""Extraction quality: newsmon's extract_article versus bare trafilatura, same pages, same run.

Figures (printed, nothing asserted):
- snippet recall / boilerplate exclusion on trafilatura-eval (100 pages, `with` / `without`
  snippets from upstream's evaldata.json);
- body precision / recall / F1 (bag of words, mean over pages) on mozilla-readability
  (expected.html) and scrapinghub-aeb (articleBody);
- date accuracy (day) on the trafilatura-eval pages with an htmldate-eval gold date.

Bare = ``trafilatura.extract(html, url=url)`` for text and
``trafilatura.bare_extraction(html, url=url, with_metadata=True).date`` for dates.
newsmon's dates are UTC; a page's gold date is its local calendar day, so a newsmon date
counts as correct when it equals the gold day in UTC or in the page's own offset (which
htmldate reported before the conversion: see ``local_day``).

Data: reads ``../shared/corpus`` (or ``--corpus DIR``) when present. Without it, it falls
back to the small copied subset in ``tests/fixtures/extraction/corpus`` (same layout, a few
pages per source), so the figures then describe that subset only.

Usage: .venv/bin/python bench/eval_extraction.py [--corpus DIR] [--show-misses]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import trafilatura
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.errors import ExtractionError  # noqa: E402
from pipeline.pages.extract import extract_article  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SUBSET = ROOT / "tests" / "fixtures" / "extraction" / "corpus"
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class Score:
    hits: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, label: str) -> None:
        self.total += 1
        self.hits += ok
        if not ok:
            self.misses.append(label)

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else float("nan")


def prf(found: str, gold: str) -> tuple[float, float, float]:
    f = Counter(w.lower() for w in _WORD.findall(found))
    g = Counter(w.lower() for w in _WORD.findall(gold))
    common = sum((f & g).values())
    p = common / sum(f.values()) if f else 0.0
    r = common / sum(g.values()) if g else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def newsmon_text(html: bytes | str, url: str) -> str:
    try:
        return extract_article(html, url).text
    except ExtractionError:
        return ""


def bare_text(html: bytes | str, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def read_page(path: Path) -> bytes:
    """Page bytes; the copied subset stores pages gzipped (``name.html.gz``)."""
    if path.exists():
        return path.read_bytes()
    return gzip.decompress(path.with_name(path.name + ".gz").read_bytes())


def trafilatura_pages(root: Path) -> list[tuple[str, Path, dict]]:
    base = root / "trafilatura-eval"
    evaldata = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url, entry in evaldata.items():
        for folder in ("eval", "cache"):
            path = base / folder / entry["file"]
            if path.exists() or path.with_name(path.name + ".gz").exists():
                pages.append((url, path, entry))
                break
    return pages


def eval_snippets(root: Path, show: bool) -> dict[str, tuple[Score, Score]]:
    out = {"newsmon": (Score(), Score()), "bare": (Score(), Score())}
    for url, path, entry in trafilatura_pages(root):
        html = read_page(path)
        page_url = url if url.startswith("http") else "https://example.org/"
        texts = {
            "newsmon": norm(newsmon_text(html, page_url)),
            "bare": norm(bare_text(html, page_url)),
        }
        for name, text in texts.items():
            with_, without = out[name]
            for snippet in entry.get("with", []):
                with_.add(norm(snippet) in text, f"{path.name}: {snippet!r}")
            for snippet in entry.get("without", []):
                without.add(norm(snippet) not in text, f"{path.name}: {snippet!r}")
    if show:
        for name, (with_, without) in out.items():
            print(f"-- {name} missed `with`: {with_.misses}")
            print(f"-- {name} kept `without`: {without.misses}")
    return out


def mozilla_pages(root: Path) -> list[tuple[str, bytes, str]]:
    pages = []
    for folder in sorted((root / "mozilla-readability" / "test-pages").iterdir()):
        expected = lxml_html.fromstring((folder / "expected.html").read_bytes())
        for block in expected.iter("p", "h1", "h2", "h3", "h4", "li", "br", "div", "blockquote"):
            block.tail = "\n" + (block.tail or "")
        url = f"http://fakehost/{folder.name}/"
        pages.append((url, read_page(folder / "source.html"), expected.text_content()))
    return pages


def aeb_pages(root: Path) -> list[tuple[str, bytes, str]]:
    base = root / "scrapinghub-aeb"
    gold = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for sha, entry in sorted(gold.items()):
        path = base / "html" / f"{sha}.html.gz"
        if path.exists():
            pages.append((entry["url"], gzip.decompress(path.read_bytes()), entry["articleBody"]))
    return pages


def eval_bodies(pages: list[tuple[str, bytes, str]]) -> dict[str, tuple[float, float, float]]:
    sums = {"newsmon": [0.0, 0.0, 0.0], "bare": [0.0, 0.0, 0.0]}
    for url, html, gold in pages:
        for name, text in (("newsmon", newsmon_text(html, url)), ("bare", bare_text(html, url))):
            for i, v in enumerate(prf(text, gold)):
                sums[name][i] += v
    n = len(pages) or 1
    return {k: (v[0] / n, v[1] / n, v[2] / n) for k, v in sums.items()}


def local_day(html: bytes, url: str) -> set[str]:
    """Days newsmon's date may legitimately show: UTC day and the page's local day."""
    try:
        found = extract_article(html, url)
    except ExtractionError:
        return set()
    if found.published_at is None:
        return set()
    days = {found.published_at.strftime("%Y-%m-%d")}
    # Recover the page's own offset from htmldate for the local calendar day.
    import htmldate

    raw = htmldate.find_date(html, outputformat="%Y-%m-%dT%H:%M:%S%z", original_date=True, url=url)
    if raw:
        try:
            local = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")
            if local.astimezone(UTC) == found.published_at:
                days.add(local.strftime("%Y-%m-%d"))
        except ValueError:
            pass
    return days


def eval_dates(root: Path, show: bool) -> dict[str, Score]:
    gold = json.loads((root / "htmldate-eval" / "eval_default.json").read_text(encoding="utf-8"))
    by_file = {entry["file"]: entry["date"] for entry in gold.values()}
    out = {"newsmon": Score(), "bare": Score()}
    for url, path, entry in trafilatura_pages(root):
        want = by_file.get(entry["file"])
        if not want:
            continue
        html = read_page(path)
        page_url = url if url.startswith("http") else "https://example.org/"
        out["newsmon"].add(want in local_day(html, page_url), f"{path.name}: {want}")
        doc = trafilatura.bare_extraction(html, url=page_url, with_metadata=True)
        got = getattr(doc, "date", None) if doc is not None else None
        out["bare"].add(got == want, f"{path.name}: {want} got {got}")
    if show:
        for name, score in out.items():
            print(f"-- {name} date misses: {score.misses}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    root = args.corpus or (SHARED if SHARED.exists() else SUBSET)
    print(f"corpus: {root}")

    rows: list[tuple[str, float, float]] = []
    snippets = eval_snippets(root, args.show_misses)
    n_with = snippets["bare"][0].total
    n_without = snippets["bare"][1].total
    rows.append(
        (f"snippet recall ({n_with} `with`)", snippets["newsmon"][0].rate, snippets["bare"][0].rate)
    )
    rows.append(
        (
            f"boilerplate exclusion ({n_without} `without`)",
            snippets["newsmon"][1].rate,
            snippets["bare"][1].rate,
        )
    )
    for label, pages in (
        ("mozilla-readability", mozilla_pages(root)),
        ("scrapinghub-aeb", aeb_pages(root)),
    ):
        bodies = eval_bodies(pages)
        for i, metric in enumerate(("precision", "recall", "F1")):
            rows.append(
                (
                    f"{label} body {metric} ({len(pages)} pages)",
                    bodies["newsmon"][i],
                    bodies["bare"][i],
                )
            )
    dates = eval_dates(root, args.show_misses)
    rows.append(
        (
            f"date accuracy ({dates['bare'].total} htmldate-eval pages)",
            dates["newsmon"].rate,
            dates["bare"].rate,
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  newsmon    bare  verdict")
    for label, mine, bare in rows:
        verdict = (
            "better" if mine > bare + 1e-9 else ("same" if abs(mine - bare) <= 1e-9 else "WORSE")
        )
        print(f"{label:<{width}}  {mine:7.3f} {bare:7.3f}  {verdict}")


if __name__ == "__main__":
    main()
