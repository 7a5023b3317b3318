"""A loopback news site whose page fetches fail at random: N feeds x M real-ish pages.

The pages are real article texts (tests/fixtures/reliability/articles.json, from the
SemEval-2022 article dump) set into a plain news-page template, so extraction,
relevance, dedup and tagging do their real work. A seeded random share of page
requests (``fault_rate``, default 10%) fails with one of:

- ``500``: HTTP 500
- ``reset``: TCP reset before any byte
- ``timeout``: no response for ``stall_s`` seconds (longer than the client's read timeout)
- ``truncated``: Content-Length promises more than is sent, then the connection closes
- ``drip``: the body trickles in ``drip_pieces`` pieces ``drip_interval`` apart
  (longer than the client's total time limit)

Several sites can share one server with distinct ``prefix`` and ``first_article``.
The decision is a pure function of (seed, path, n-th request for that path), so a
run is reproducible however the client orders its concurrent requests. Set
``faults_enabled = False`` to let every request succeed; ``forced`` maps a path
to the mode its first request fails with (to exercise every mode in a short run).
Feeds and robots.txt
never fail: the faults are about pages.
"""

from __future__ import annotations

import html
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.support.http_server import LoopbackServer, Request, Response

ARTICLES = Path(__file__).resolve().parent.parent / "fixtures" / "reliability" / "articles.json"
FAULT_MODES = ("500", "reset", "timeout", "truncated", "drip")


def load_articles() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ARTICLES.read_text(encoding="utf-8"))
    return data


def rss_feed(title: str, link: str, items: list[str], description: str = "x") -> bytes:
    """An RSS 2.0 document around ``items`` (``<item>`` elements as text)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link>"
        f"<description>{description}</description>{''.join(items)}</channel></rss>"
    ).encode()


def write_feed_list(path: Path, feeds: list[tuple[str, str]], language: str | None = "de") -> Path:
    """A feeds.yaml of (name, url) pairs."""
    lines = ["feeds:"]
    for name, url in feeds:
        lines += [f"  - name: {name}", f"    url: {url}"]
        if language:
            lines.append(f"    language: {language}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def page_html(title: str, text: str, url: str, published: datetime, language: str | None) -> bytes:
    """A plain news page around ``text``: header, navigation, article, footer."""
    paras = "\n".join(
        f"      <p>{html.escape(p.strip())}</p>" for p in text.split("\n") if p.strip()
    )
    t = html.escape(title)
    doc = f"""<!DOCTYPE html>
<html lang="{language or "de"}">
<head>
  <meta charset="utf-8">
  <title>{t} | Testzeitung</title>
  <meta property="og:title" content="{t}">
  <meta property="og:site_name" content="Testzeitung">
  <meta property="article:published_time" content="{published.isoformat()}">
  <link rel="canonical" href="{html.escape(url)}">
</head>
<body>
  <header><nav><a href="/">Startseite</a> <a href="/politik">Politik</a>
    <a href="/wirtschaft">Wirtschaft</a></nav></header>
  <main>
    <article>
      <h1>{t}</h1>
      <p class="byline">Von der Redaktion, {published:%d.%m.%Y}</p>
{paras}
    </article>
  </main>
  <footer><p>Impressum | Datenschutz | Kontakt</p></footer>
</body>
</html>
"""
    return doc.encode("utf-8")


class FaultySite:
    """Registers feeds, pages and robots.txt on ``server``; see the module docstring."""

    def __init__(
        self,
        server: LoopbackServer,
        *,
        feeds: int = 4,
        pages_per_feed: int = 10,
        fault_rate: float = 0.10,
        seed: int = 0,
        modes: tuple[str, ...] = FAULT_MODES,
        stall_s: float = 2.0,
        drip_pieces: int = 20,
        drip_interval: float = 0.2,
        published: datetime | None = None,
        forced: dict[str, str] | None = None,
        prefix: str = "",
        first_article: int = 0,
    ) -> None:
        articles = load_articles()[first_article:]
        if feeds * pages_per_feed > len(articles):
            raise ValueError(f"at most {len(articles)} distinct pages available")
        self.server = server
        self.fault_rate = fault_rate
        self.seed = seed
        self.modes = modes
        self.stall_s = stall_s
        self.drip_pieces = drip_pieces
        self.drip_interval = drip_interval
        self.faults_enabled = True
        #: called with the path before each page response (tests hook outages in here)
        self.on_page_request: Callable[[str], None] | None = None
        #: path -> mode for that path's first request (on top of the random plan)
        self.forced = dict(forced or {})
        self.injected: Counter[str] = Counter()
        self.page_requests = 0
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.feed_urls: list[str] = []
        self.page_urls: list[str] = []
        self.titles: dict[str, str] = {}
        when = published or datetime.now(UTC) - timedelta(hours=2)
        if not prefix:
            server.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        for f in range(feeds):
            items = []
            for p in range(pages_per_feed):
                art = articles[f * pages_per_feed + p]
                path = f"{prefix}/f{f}/p{p}.html"
                url = server.url(path)
                pub = when - timedelta(minutes=f * pages_per_feed + p)
                body = page_html(art["title"], art["text"], url, pub, art.get("language"))
                self._add_page(path, body)
                self.page_urls.append(url)
                self.titles[url] = art["title"]
                lead = art["text"].split("\n", 1)[0][:300]
                items.append(
                    f"<item><title>{html.escape(art['title'])}</title><link>{url}</link>"
                    f"<guid>{url}</guid><description>{html.escape(lead)}</description>"
                    f"<pubDate>{format_datetime(pub)}</pubDate></item>"
                )
            rss = rss_feed(f"Testzeitung {f}", server.url("/"), items, f"feed {f}")
            fpath = f"{prefix}/feeds/f{f}.xml"
            server.add_file(fpath, rss, content_type="application/rss+xml", etag="")
            self.feed_urls.append(server.url(fpath))

    @property
    def faults_injected(self) -> int:
        return sum(self.injected.values())

    def write_feed_list(self, path: Path) -> Path:
        return write_feed_list(
            path, [(f"Testzeitung {i}", url) for i, url in enumerate(self.feed_urls)]
        )

    def _fault_for(self, path: str) -> str | None:
        with self._lock:
            n = self._seen[path]
            self._seen[path] += 1
            self.page_requests += 1
            if not self.faults_enabled:
                return None
            if n == 0 and path in self.forced:
                self.injected[self.forced[path]] += 1
                return self.forced[path]
            rng = random.Random(f"{self.seed}:{path}:{n}")
            if rng.random() >= self.fault_rate:
                return None
            mode = rng.choice(self.modes)
            self.injected[mode] += 1
            return mode

    def _add_page(self, path: str, body: bytes) -> None:
        ctype = "text/html; charset=utf-8"
        stopping = self.server.stopping

        def handle(h: Any, req: Request) -> None:
            if self.on_page_request is not None:
                self.on_page_request(path)
            mode = self._fault_for(path)
            if mode is None:
                h._send(Response(200, body, {"Content-Type": ctype}))
            elif mode == "500":
                h._send(Response(500, b"internal error", {"Content-Type": "text/plain"}))
            elif mode == "reset":
                h.reset()
            elif mode == "timeout":
                if not stopping.wait(self.stall_s):
                    h._send(Response(200, body, {"Content-Type": ctype}))
            elif mode == "truncated":
                half = body[: len(body) // 2]
                h._send(
                    Response(200, iter([half]), {"Content-Type": ctype}, content_length=len(body))
                )
            elif mode == "drip":
                step = max(1, len(body) // self.drip_pieces)

                def pieces() -> Any:
                    for i in range(0, len(body), step):
                        yield body[i : i + step]
                        if stopping.wait(self.drip_interval):
                            return

                h._send(Response(200, pieces(), {"Content-Type": ctype}))
            else:  # pragma: no cover - modes are validated by the tests that pick them
                raise ValueError(mode)

        self.server.add_raw(path, handle)


def store_problems(engine: Any) -> list[str]:
    """Everything that would show a lost, doubled or half-written article; [] if consistent.

    Checks: one Article per URL and per text hash (the site's pages are all
    distinct), stored text and its hash/length agree, every enriched article
    has its enrichment timestamp, every 'done' entry points at an article with
    its URL, and mentions/fingerprints only reference stored articles.
    """
    from sqlalchemy import text as sql
    from sqlmodel import Session, select

    from pipeline.enrich.fingerprints import content_hash
    from storage.models import Article, Entry

    problems: list[str] = []
    with Session(engine) as s:
        for url, n in s.execute(
            sql("SELECT url, COUNT(*) FROM article GROUP BY url HAVING COUNT(*) > 1")
        ):
            problems.append(f"{n} articles for url {url}")
        for h, n in s.execute(
            sql(
                "SELECT text_hash, COUNT(*) FROM article WHERE NOT is_seed AND text_hash <> '' "
                "GROUP BY text_hash HAVING COUNT(*) > 1"
            )
        ):
            problems.append(f"{n} articles with text hash {h}")
        for url, n in s.execute(
            sql("SELECT url, COUNT(*) FROM entry GROUP BY url HAVING COUNT(*) > 1")
        ):
            problems.append(f"{n} entries for url {url}")
        articles = {a.id: a for a in s.exec(select(Article))}
        for a in articles.values():
            if a.text_hash != content_hash(a.text) or a.text_chars != len(a.text):
                problems.append(f"article {a.id}: text and hash/length disagree")
            if a.enriched_at is None:
                problems.append(f"article {a.id}: stored without enrichment")
        for e in s.exec(select(Entry)):
            if e.status == "done":
                art = articles.get(e.article_id) if e.article_id is not None else None
                if art is None or art.url != e.url:
                    problems.append(f"entry {e.id} done without its article")
        for table in ("mention", "fingerprint", "lsh_band"):
            (orphans,) = s.execute(
                sql(
                    f"SELECT COUNT(*) FROM {table} t LEFT JOIN article a "
                    "ON a.id = t.article_id WHERE a.id IS NULL"
                )
            ).one()
            if orphans:
                problems.append(f"{orphans} {table} rows of missing articles")
    return problems
