"""The extraction evaluation corpus: pages, gold data, the site split and the scoring rules.

One reader for ../shared/corpus and for the copied subset in tests/fixtures/extraction/corpus
(same layout, pages gzipped), used by tests/pages/test_extraction_quality.py and by
bench/eval_extraction.py, so tests and bench measure the same way.

Sources: trafilatura-eval (+ trafilatura-extra: `with`/`without` snippets from evaldata.json),
mozilla-readability (expected article HTML, publishedTime), scrapinghub-aeb (articleBody).
Date gold: htmldate-eval's hand-checked date, else evaldata's metadata date, else Mozilla's
publishedTime.

The split (``split.csv``) assigns every registered domain to ``dev`` or ``heldout`` by a hash of
the domain (see bench/make_split.py): a site's pages are all on one side, so nothing learnt on a
publisher's layout is scored on that publisher.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import html as lxml_html

from tests.support.paths import FIXTURES

SHARED = FIXTURES.parents[2] / "shared" / "corpus"
SUBSET = FIXTURES / "extraction" / "corpus"
SPLIT = FIXTURES / "extraction" / "split.csv"
THIRD = FIXTURES / "extraction" / "dates_third.csv"

#: Mozilla's test pages all live on "fakehost"; their publishers, for the split.
MOZILLA_SITES = {
    "aclu": "aclu.org",
    "bbc-1": "bbc.co.uk",
    "bug-1255978": "mozilla.org",
    "cnn": "cnn.com",
    "heise": "heise.de",
    "herald-sun-1": "heraldsun.com.au",
    "lemonde-1": "lemonde.fr",
    "liberation-1": "liberation.fr",
    "medicalnewstoday": "medicalnewstoday.com",
    "nytimes-1": "nytimes.com",
    "nytimes-2": "nytimes.com",
    "schema-org-context-object": "nbcnews.com",
    "seattletimes-1": "seattletimes.com",
    "telegraph": "telegraph.co.uk",
    "wapo-1": "washingtonpost.com",
    "wapo-2": "washingtonpost.com",
}

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass
class Page:
    """One evaluation page and whatever gold data it has."""

    key: str  # source/relative path, the split's key
    source: str
    url: str
    path: Path
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)
    body: str | None = None
    date: str | None = None  # YYYY-MM-DD, the page's local calendar day

    def html(self) -> bytes:
        """The page bytes (the copied subset stores ``name.gz``)."""
        if self.path.exists():
            data = self.path.read_bytes()
            return gzip.decompress(data) if self.path.suffix == ".gz" else data
        return gzip.decompress(self.path.with_name(self.path.name + ".gz").read_bytes())

    def exists(self) -> bool:
        return self.path.exists() or self.path.with_name(self.path.name + ".gz").exists()


def norm(text: str) -> str:
    """Whitespace-normalised text, as snippets are compared."""
    return _WS.sub(" ", text).strip()


def registered_domain(url: str) -> str:
    """The publisher's registered domain (``www.bbc.co.uk`` -> ``bbc.co.uk``)."""
    from tld import get_fld

    found = get_fld(url, fail_silently=True)
    if found:
        return str(found)
    host = url.split("//", 1)[-1].split("/", 1)[0].lower()
    return host.removeprefix("www.")


def default_root() -> Path:
    """../shared/corpus when present, else the copied subset."""
    return SHARED if SHARED.exists() else SUBSET


def _json(path: Path) -> dict:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def snippet_pages(root: Path) -> Iterator[Page]:
    evaldata = _json(root / "trafilatura-eval" / "evaldata.json")
    htmldates = {
        e["file"]: e["date"] for e in _json(root / "htmldate-eval" / "eval_default.json").values()
    }
    folders = [
        ("trafilatura-eval", "eval"),
        ("trafilatura-eval", "cache"),
        ("trafilatura-extra", ""),
    ]
    for url, entry in evaldata.items():
        for source, folder in folders:
            path = root / source / folder / entry["file"]
            page = Page(
                key=f"{source}/{folder + '/' if folder else ''}{entry['file']}",
                source=source,
                url=url if url.startswith("http") else "https://example.org/",
                path=path,
                with_=list(entry.get("with", [])),
                without=list(entry.get("without", [])),
                date=htmldates.get(entry["file"]) or (entry.get("date") or None),
            )
            if page.exists():
                yield page
                break


def mozilla_pages(root: Path) -> Iterator[Page]:
    base = root / "mozilla-readability" / "test-pages"
    if not base.exists():
        return
    for folder in sorted(base.iterdir()):
        expected = lxml_html.fromstring((folder / "expected.html").read_bytes())
        for block in expected.iter("p", "h1", "h2", "h3", "h4", "li", "br", "div", "blockquote"):
            block.tail = "\n" + (block.tail or "")
        meta = _json(folder / "expected-metadata.json")
        published = meta.get("publishedTime") or None
        yield Page(
            key=f"mozilla-readability/{folder.name}",
            source="mozilla-readability",
            url=f"http://fakehost/{folder.name}/",
            path=folder / "source.html",
            body=expected.text_content(),
            date=published[:10] if published else None,
        )


def aeb_pages(root: Path) -> Iterator[Page]:
    base = root / "scrapinghub-aeb"
    gold = _json(base / "ground-truth.json")
    for sha, entry in sorted(gold.items()):
        path = base / "html" / f"{sha}.html.gz"
        if path.exists():
            yield Page(
                key=f"scrapinghub-aeb/{sha}",
                source="scrapinghub-aeb",
                url=entry["url"],
                path=path,
                body=entry["articleBody"],
            )


def all_pages(root: Path) -> list[Page]:
    """Every page of ``root`` that has its HTML."""
    return [*snippet_pages(root), *mozilla_pages(root), *aeb_pages(root)]


def dense_page(html: bytes, size: int) -> bytes:
    """``html`` with its own body repeated up to ``size`` bytes: real markup all the way,
    the costliest kind of big page to parse (pipeline.pages.markup bounds it)."""
    start, end = html.find(b"<body"), html.rfind(b"</body>")
    start = html.find(b">", start) + 1 if start >= 0 else -1
    if start <= 0 or end <= start:
        return html
    inner = html[start:end]
    reps = max(1, (size - len(html)) // len(inner) + 1)
    return (html[:start] + inner * reps + html[end:])[:size]


def site_of_page(page: Page) -> str:
    """The registered domain a page is split by."""
    if page.source == "mozilla-readability":
        return MOZILLA_SITES.get(page.key.rsplit("/", 1)[-1], page.key)
    if page.url == "https://example.org/":
        return page.key
    return registered_domain(page.url)


def read_split(path: Path = SPLIT) -> dict[str, str]:
    """Page key -> ``dev`` | ``heldout``, as recorded."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["key"]: row["half"] for row in csv.DictReader(handle)}


def pages_of(half: str, root: Path | None = None) -> list[Page]:
    """The pages of one half that ``root`` holds."""
    split = read_split()
    return [p for p in all_pages(root or default_root()) if split.get(p.key) == half]


def read_third(path: Path = THIRD) -> dict[str, str]:
    """Page key -> labelled day (``none`` where the page shows no publication date)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return {row["key"]: row["gold"] for row in csv.DictReader(lines)}


def third_pages(root: Path | None = None) -> list[Page]:
    """The third date set's dated pages that ``root`` holds, their gold day as ``date``.

    These pages have no date gold in either half; their labels (dates_third.csv) come from the
    visible byline, so they judge date designs that dev cannot separate.
    """
    labels = read_third()
    out = []
    for page in all_pages(root or default_root()):
        gold = labels.get(page.key, "none")
        if gold != "none" and not page.date:
            out.append(replace(page, date=gold, with_=[], without=[], body=None))
    return out


@dataclass
class SnippetScore:
    """trafilatura's evaluation counts: `with` found (tp) or missed (fn), `without` kept (fp)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, text: str, page: Page) -> None:
        body = norm(text)
        for snippet in page.with_:
            if norm(snippet) in body:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in page.without:
            if norm(snippet) in body:
                self.fp += 1
            else:
                self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def exclusion(self) -> float:
        """Share of `without` snippets kept out."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else 0.0


def body_prf(found: str, gold: str) -> tuple[float, float, float]:
    """Bag-of-words precision, recall, F1 of ``found`` against ``gold``."""
    f = Counter(w.lower() for w in _WORD.findall(found))
    g = Counter(w.lower() for w in _WORD.findall(gold))
    common = sum((f & g).values())
    p = common / sum(f.values()) if f else 0.0
    r = common / sum(g.values()) if g else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Figures:
    """One extractor's figures over a set of pages."""

    snippets: SnippetScore = field(default_factory=SnippetScore)
    body_f1: list[float] = field(default_factory=list)
    dates_right: int = 0
    dates_total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def mean_body_f1(self) -> float:
        return sum(self.body_f1) / len(self.body_f1) if self.body_f1 else 0.0

    @property
    def date_accuracy(self) -> float:
        return self.dates_right / self.dates_total if self.dates_total else 0.0


def newsmon_result(page: Page, components: frozenset[str] | None = None) -> tuple[str, set[str]]:
    """newsmon's text and the calendar days its date stands for (page-local and UTC)."""
    from pipeline.errors import ExtractionError
    from pipeline.pages.extract import COMPONENTS, extract_article

    try:
        found = extract_article(
            page.html(), page.url, components=COMPONENTS if components is None else components
        )
    except ExtractionError:
        return "", set()
    days = set()
    for value in (found.published_local, found.published_at):
        if value is not None:
            days.add(value.strftime("%Y-%m-%d"))
    return found.text, days


def bare_result(page: Page) -> tuple[str, set[str]]:
    """Bare ``trafilatura.bare_extraction(with_metadata=True)``: text and date."""
    import trafilatura

    doc = trafilatura.bare_extraction(page.html(), url=page.url, with_metadata=True)
    if doc is None:
        return "", set()
    return doc.text or "", {doc.date} if doc.date else set()


Runner = Callable[[Page], tuple[str, set[str]]]


def evaluate(pages: list[Page], runners: dict[str, Runner] | None = None) -> dict[str, Figures]:
    """newsmon and bare trafilatura (or the given runners) on the same pages, in the same run."""
    runners = runners or {"newsmon": newsmon_result, "bare": bare_result}
    out = {name: Figures() for name in runners}
    for page in pages:
        for name, run in runners.items():
            text, days = run(page)
            figures = out[name]
            if page.with_ or page.without:
                before = (figures.snippets.fn, figures.snippets.fp)
                figures.snippets.add(text, page)
                if (figures.snippets.fn, figures.snippets.fp) != before:
                    figures.misses.append(f"text {page.key}")
            if page.body is not None:
                figures.body_f1.append(body_prf(text, page.body)[2])
            if page.date:
                figures.dates_total += 1
                if page.date in days:
                    figures.dates_right += 1
                else:
                    figures.misses.append(f"date {page.key}: want {page.date} got {sorted(days)}")
    return out
