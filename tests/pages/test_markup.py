"""bounded_markup: a huge page costs what its text needs, and nothing else changes."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap

from pipeline.pages.extract import extract_article
from pipeline.pages.markup import MAX_MARKUP, TRIM_ABOVE, bounded_markup
from tests.support.extraction_corpus import all_pages, default_root
from tests.support.paths import FIXTURES, ROOT

EVAL = FIXTURES / "extraction" / "corpus" / "trafilatura-eval" / "eval"
FR = EVAL / "fr.de.nordkorea.html.gz"
DENSE = EVAL / "badische-zeitung.de-Wohnungssuche.html.gz"
FR_URL = (
    "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html"
)
JSON_LD = (
    b'<script type="application/ld+json">{"datePublished": "2020-04-29T10:00:00+02:00"}</script>'
)


def _padded(html: bytes, pad: bytes) -> bytes:
    """``html`` with ``pad`` repeated in front of </body> until the page is over TRIM_ABOVE."""
    reps = TRIM_ABOVE // len(pad) + 2
    return html.replace(b"</body>", pad * reps + b"</body>", 1)


def test_pages_up_to_the_limit_are_parsed_as_fetched() -> None:
    pages = all_pages(default_root())
    assert pages
    for page in pages:
        html = page.html()
        assert bounded_markup(html) is html, page.key  # the extraction figures stand
    assert bounded_markup("<p>short</p>") == "<p>short</p>"


def test_scripts_styles_svg_and_comments_go_json_ld_stays() -> None:
    # a custom element named script-* is markup; "<!-->" is an (empty) comment of its own
    body = b"<p>Der Artikel beginnt hier.</p><script-card>Eigenes Element</script-card>"
    pad = (
        b"<script>var x = '<p>not text</p>';</script><STYLE>p{color:red}</STYLE>"
        b"<svg><path d='M0 0'/></svg><!-- tracking -->"
    )
    html = b"<html><head>" + JSON_LD + b"</head><body>" + body + b"</body></html>"
    out = bounded_markup(_padded(html.replace(b"<body>", b"<body><!-->"), pad))
    assert out == html


def test_the_rest_is_capped_at_a_tag() -> None:
    para = b"<p>" + b"Dichter Artikeltext ohne Skripte. " * 20 + b"</p>\n"
    html = b"<html><body>" + para * (TRIM_ABOVE // len(para) + 10) + b"</body></html>"
    out = bounded_markup(html)
    assert len(out) <= MAX_MARKUP
    assert html.startswith(out) and out.endswith(b"</p>\n")


def test_an_unclosed_opener_drops_the_rest() -> None:
    html = b"<html><body><p>Text davor.</p><script>" + b"x" * TRIM_ABOVE
    assert bounded_markup(html) == b"<html><body><p>Text davor.</p>"


def test_hostile_markup_is_scanned_once() -> None:
    # thousands of openers without a closer or a '>': a backtracking pattern would scan
    # the rest of the page from each of them (hours for 3 MB); this returns at once
    html = b"<p>Anfang</p>" + b"<script <style <!- <svg " * (3 * TRIM_ABOVE // 24)
    out = bounded_markup(html)
    assert out.startswith(b"<p>Anfang</p>") and len(out) <= MAX_MARKUP
    comments = b"<p>Anfang</p>" + b"<!--" * (TRIM_ABOVE // 2)
    assert bounded_markup(comments) == b"<p>Anfang</p>"


def test_str_pages_are_trimmed_alike() -> None:
    html = (
        "<html><body><p>Südkorea – Text.</p>"
        + "<script>ä</script>" * (TRIM_ABOVE // 18 + 1)
        + "</body>"
    )
    assert bounded_markup(html) == "<html><body><p>Südkorea – Text.</p></body>"


def test_a_page_bloated_with_scripts_extracts_as_the_page_itself() -> None:
    html = gzip.decompress(FR.read_bytes())
    bloated = _padded(html, b"<script>window.__STATE__ = {'a': [1, 2, 3]};</script>\n")
    assert len(bloated) > TRIM_ABOVE
    plain, trimmed = extract_article(html, FR_URL), extract_article(bloated, FR_URL)
    assert trimmed.text == plain.text
    assert trimmed.title == plain.title
    assert trimmed.published_at == plain.published_at


def test_dense_markup_near_the_cap_stays_within_a_workers_memory() -> None:
    # a corpus page's body repeated to 7.8 MB: without bounded_markup one extraction grows
    # the process by 192 MB (another corpus page: 320 MB and 9.5 s of CPU), with it by
    # about 5 MB; a fresh process keeps the figure clean
    script = textwrap.dedent(
        f"""
        import gzip, resource
        from pipeline.pages.extract import extract_article
        from tests.support.extraction_corpus import dense_page
        html = gzip.decompress(open({str(DENSE)!r}, "rb").read())
        big = dense_page(html, 7_800_000)
        extract_article(html, {FR_URL!r})  # models and modules loaded
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        text = extract_article(big, {FR_URL!r}).text
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(big), len(text), (after - before) // 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    size, text_chars, grown_mb = map(int, out.stdout.split())
    assert size > 7_000_000 and text_chars > 0
    assert grown_mb < 100, f"one 7.8 MB page grew the process by {grown_mb} MB"
