"""Build the labelled near-duplicate set in tests/fixtures/dedup/ (deterministic).

Step 1 (only where ../shared/corpus exists, or with --refresh-sources): copy the
source texts (title, text, date, language) of the five seeds and of the
SemEval-2022 articles into tests/fixtures/dedup/articles.json, and the gold
pairs into tests/fixtures/dedup/pairs.csv.

Step 2: from articles.json, generate rewritten wire copies the way syndication
changes them, and write tests/fixtures/dedup/neardup_set.json with labelled
pairs:

* positives: (copy, source) for four rewrite recipes: a new headline and intro;
  a dropped paragraph inside another site's boilerplate frame; reordered
  paragraphs with punctuation and typo edits; and all of these at once. Plus
  the real truncated reprint in the corpus (1484238967 of 1484229160).
* negatives: independently written articles on the same story (the SemEval
  pairs, seeds 001/003 on Kim's letter, every other pair of seeds), all other
  pairs of Korea articles, a copy against a different article of the same
  story, and two different articles wrapped in the same site frame.

Every random choice comes from random.Random seeded with the article id, so
the output is byte-identical on every run and machine.

Usage: .venv/bin/python scripts/build_neardup_set.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "dedup"
MIN_WORDS_FOR_COPIES = 120

# A real reprint in the corpus: 1484238967 is a truncated teaser of 1484229160.
REAL_POSITIVES = [
    ("sem:1484238967", "sem:1484229160", "real-truncated-reprint"),
    # SemEval calls this pair "same story"; the texts are one syndicated article.
    ("sem:1483994760", "sem:1484479606", "real-syndicated-copy"),
]
# Two update states of one dpa story (lead rewritten, ~60% of paragraphs shared):
# neither clearly a duplicate nor clearly independent, so left out of the scores.
AMBIGUOUS = [("sem:1484225978", "sem:1483855960")]

FRAMES = {
    "de": [
        (
            "Startseite › Politik › Ausland\nTeilen\nTwittern\nE-Mail\nDrucken\n",
            "\n© dpa-infocom, dpa:200101-99-12345/3\nMehr zum Thema\n"
            "Newsletter: Jeden Morgen die wichtigsten Nachrichten des Tages direkt in Ihr "
            "Postfach. Jetzt kostenlos anmelden!\nZur Startseite",
        ),
        (
            "Nachrichten > Welt\nArtikel anhören\nLesezeit: 3 Min.\n",
            "\nDieser Artikel wurde automatisch aus dem Angebot der Deutschen Presse-Agentur "
            "übernommen und von der Redaktion nicht bearbeitet.\n"
            "Lesen Sie mehr zum Thema\nKommentare anzeigen\nZur SZ-Startseite",
        ),
    ],
    "en": [
        (
            "Home | World | Asia\nShare this article\nFacebook Twitter Email\n",
            "\nCopyright 2020 The Associated Press. All rights reserved. This material may "
            "not be published, broadcast, rewritten or redistributed.\nRelated Topics\n"
            "Sign up for our newsletter to get the top stories every morning.",
        ),
        (
            "World News\nListen to this article\n4 min read\n",
            "\n(Reporting by our correspondents; Editing by the news desk)\n"
            "Our Standards: The Thomson Reuters Trust Principles.\nRead more\n"
            "Advertisement\nMost popular stories",
        ),
    ],
}
INTROS = {
    "de": [
        "Wie die Nachrichtenagentur am {day} berichtete, gibt es Neuigkeiten: {title}. "
        "Unsere Redaktion fasst zusammen, was bisher bekannt ist.",
        "{place} (dpa) - Es ist eine Meldung, die viele Leser interessiert. {title}, "
        "heißt es in einem aktuellen Bericht.",
    ],
    "en": [
        "Here is what we know so far, as reported on {day}: {title}. "
        "Our newsroom has compiled the key facts below.",
        "{place} (AP) - In a development closely watched by readers, {title}, "
        "according to a report released on {day}.",
    ],
}
PLACES = ["Berlin", "Seoul", "Washington", "Frankfurt", "Hamburg", "London", "Tokio"]


def load_sources(corpus: Path, seeds: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for f in sorted(seeds.glob("*.txt")):
        raw = f.read_text(encoding="utf-8")
        m = re.match(r"\s*date (\d{4}-\d{2})", raw)
        first = next(
            (
                ln.strip()
                for ln in raw.splitlines()
                if ln.strip() and not ln.strip().startswith("date ")
            ),
            "",
        )
        docs.append(
            {
                "id": f"seed:{f.stem[:3]}",
                "title": first[:120],
                "text": raw,
                "date": f"{m.group(1)}-15" if m else None,
                "lang": "de",
                "origin": f"seeds/{f.name}",
            }
        )
    for f in sorted((corpus / "semeval-articles" / "articles").glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        docs.append(
            {
                "id": f"sem:{f.stem}",
                "title": d.get("title") or "",
                "text": d.get("text") or "",
                "date": _iso_date(d.get("publish_date")),
                "lang": None,  # filled from pairs.csv (meta_lang is unreliable)
                "origin": f"corpus/semeval-articles/articles/{f.name}",
            }
        )
    return docs


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %Y").date().isoformat()
    except ValueError:
        return None


def refresh_sources(corpus: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    docs = load_sources(corpus, ROOT / "seeds")
    rows = list(csv.DictReader((corpus / "semeval-articles" / "pairs.csv").open(encoding="utf-8")))
    lang: dict[str, str] = {}
    keep = ["pair_id", "url1_lang", "url2_lang", "Overall", "korea"]
    for r in rows:
        a, b = r["pair_id"].split("_")
        lang[a], lang[b] = r["url1_lang"], r["url2_lang"]
    for d in docs:
        if d["id"].startswith("sem:"):
            d["lang"] = lang.get(d["id"][4:])
    (OUT / "articles.json").write_text(
        json.dumps(docs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    with (OUT / "pairs.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keep)
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in keep})


def paragraphs(text: str) -> list[str]:
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paras) >= 4:
        return paras
    # Few blank-line breaks: fall back to line breaks, then to groups of sentences.
    paras = [p.strip() for p in text.splitlines() if p.strip()]
    if len(paras) >= 4:
        return paras
    sents = _sentences(" ".join(paras))
    size = max(1, len(sents) // 5)
    return [" ".join(sents[i : i + size]) for i in range(0, len(sents), size)]


def _sentences(text: str) -> list[str]:
    # Extracted texts often lose the space after a full stop ("weapon."Kim).
    return [s for s in re.split(r"(?<=[.!?])[\"”“]?\s*(?=[A-ZÄÖÜ\"„“])", text) if s]


def _droppable(paras: list[str], rng: random.Random, first: int) -> int | None:
    """A paragraph a sub-editor might cut: not the lead, at most a quarter of the text."""
    total = sum(len(p.split()) for p in paras)
    ok = [i for i in range(first, len(paras)) if len(paras[i].split()) <= 0.25 * total]
    return rng.choice(ok) if ok else None


def typos(text: str, rng: random.Random, rate: float = 1 / 60) -> str:
    toks = text.split(" ")
    for i, tok in enumerate(toks):
        if len(tok) > 4 and tok.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(tok) - 2)
            if rng.random() < 0.5:  # swap two letters
                tok = tok[:j] + tok[j + 1] + tok[j] + tok[j + 2 :]
            else:  # drop a letter
                tok = tok[:j] + tok[j + 1 :]
            toks[i] = tok
    return " ".join(toks)


def punctuation(text: str) -> str:
    return (
        text.replace("„", '"')
        .replace("“", '"')
        .replace("”", '"')
        .replace(" - ", " – ")
        .replace("’", "'")
    )


def new_intro(doc: dict[str, Any], paras: list[str], rng: random.Random) -> list[str]:
    lang = "de" if doc["lang"] == "de" else "en"
    intro = rng.choice(INTROS[lang]).format(
        day=doc["date"] or "Mittwoch", place=rng.choice(PLACES), title=doc["title"].strip()
    )
    total = sum(len(p.split()) for p in paras)
    # Replace the lead paragraph unless it is most of the text (then only its first sentence).
    if len(paras[0].split()) <= 0.35 * total:
        return [intro, *paras[1:]]
    sents = _sentences(paras[0])
    if len(sents) > 1 and len(sents[0].split()) <= 0.35 * total:
        return [intro, " ".join(sents[1:]), *paras[1:]]
    # One huge lead "sentence" (lost punctuation): replace its first 30 words.
    return [intro, " ".join(paras[0].split()[30:]), *paras[1:]]


def new_headline(doc: dict[str, Any], rng: random.Random) -> str:
    words = doc["title"].split()
    rng.shuffle(words)
    prefix = "Eilmeldung:" if doc["lang"] == "de" else "Breaking:"
    return " ".join([prefix, *words[:8]])


def framed(doc: dict[str, Any], body: str, rng: random.Random) -> str:
    head, foot = rng.choice(FRAMES["de" if doc["lang"] == "de" else "en"])
    return head + body + foot


def make_copies(doc: dict[str, Any]) -> list[tuple[str, str]]:
    rng = random.Random(f"neardup:{doc['id']}")
    paras = paragraphs(doc["text"])
    out: list[tuple[str, str]] = []

    p = new_intro(doc, paras, rng)
    out.append(("headline-intro", new_headline(doc, rng) + "\n\n" + "\n\n".join(p)))

    p = list(paras)
    drop = _droppable(p, rng, 1)
    if drop is not None:
        del p[drop]
    out.append(("drop-para-frame", framed(doc, "\n\n".join(p), rng)))

    p = list(paras)
    if len(p) > 2:
        i = rng.randrange(1, len(p) - 1)
        p[i], p[i + 1] = p[i + 1], p[i]
    out.append(("reorder-typos", typos(punctuation("\n".join(p)), rng)))

    p = new_intro(doc, paras, rng)
    drop = _droppable(p, rng, 2)
    if drop is not None:
        del p[drop]
    body = typos(punctuation("\n\n".join(p)), rng)
    out.append(("all-edits", new_headline(doc, rng) + "\n\n" + framed(doc, body, rng)))
    return out


def build() -> dict[str, Any]:
    docs = json.loads((OUT / "articles.json").read_text(encoding="utf-8"))
    by_id = {d["id"]: d for d in docs}
    pairs_csv = list(csv.DictReader((OUT / "pairs.csv").open(encoding="utf-8")))
    copies: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    for d in docs:
        if len(d["text"].split()) < MIN_WORDS_FOR_COPIES or d["lang"] not in ("de", "en"):
            continue
        for recipe, text in make_copies(d):
            cid = f"copy:{recipe}:{d['id']}"
            copies.append({"id": cid, "source": d["id"], "recipe": recipe, "text": text})
            pairs.append({"a": cid, "b": d["id"], "duplicate": True, "kind": recipe})
    for a, b, kind in REAL_POSITIVES:
        pairs.append({"a": a, "b": b, "duplicate": True, "kind": kind})
    real = {frozenset((a, b)) for a, b, _ in REAL_POSITIVES}
    real |= {frozenset(p) for p in AMBIGUOUS}
    related = {x for pair in real for x in pair}

    negatives: set[frozenset[str]] = set()

    def neg(a: str, b: str, kind: str) -> None:
        key = frozenset((a, b))
        if a != b and key not in real and key not in negatives:
            negatives.add(key)
            pairs.append({"a": a, "b": b, "duplicate": False, "kind": kind})

    seeds = [d["id"] for d in docs if d["id"].startswith("seed:")]
    neg("seed:001", "seed:003", "same-story-seeds")
    for a, b in itertools.combinations(seeds, 2):
        neg(a, b, "seeds")
    for r in pairs_csv:
        a, b = (f"sem:{x}" for x in r["pair_id"].split("_"))
        if a in by_id and b in by_id:
            kind = "same-story" if float(r["Overall"]) <= 1.5 else "semeval-pair"
            neg(a, b, kind)
    korea = sorted(
        {f"sem:{x}" for r in pairs_csv if r["korea"] == "1" for x in r["pair_id"].split("_")}
    )
    korea = [k for k in korea if k in by_id]
    for a, b in itertools.combinations([*seeds, *korea], 2):
        neg(a, b, "korea-topic")
    # A rewritten copy must not match a different article of the same story.
    for r in pairs_csv:
        if float(r["Overall"]) <= 1.5:
            a, b = (f"sem:{x}" for x in r["pair_id"].split("_"))
            for c in copies:
                if c["source"] == a and b not in related:
                    neg(c["id"], b, "copy-vs-same-story")
    for c in copies:
        if c["source"] == "seed:001":
            neg(c["id"], "seed:003", "copy-vs-same-story")
    # Two different articles in the same site frame (frame shingles must not decide).
    framed_docs = [c for c in copies if c["recipe"] == "drop-para-frame"]
    for x, y in itertools.pairwise(framed_docs):
        neg(x["id"], y["id"], "same-frame")
    return {
        "description": "Labelled near-duplicate pairs; generated by scripts/build_neardup_set.py",
        "copies": copies,
        "pairs": pairs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args()
    if args.corpus.is_dir():
        refresh_sources(args.corpus)
    data = build()
    (OUT / "neardup_set.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    pos = sum(p["duplicate"] for p in data["pairs"])
    neg = len(data["pairs"]) - pos
    print(f"{len(data['copies'])} copies, {pos} positive and {neg} negative pairs")


if __name__ == "__main__":
    main()
