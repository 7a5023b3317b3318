"""Near-duplicate fingerprints: determinism, invariances, and P/R on the labelled set."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pytest

from pipeline.enrich import fingerprints as dedup
from tests.support.paths import FIXTURES as FIXTURES_DIR
from tests.support.paths import ROOT

FIXTURES = FIXTURES_DIR / "dedup"


def _texts() -> dict[str, str]:
    docs = json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))
    out = {d["id"]: d["text"] for d in docs}
    data = json.loads((FIXTURES / "neardup_set.json").read_text(encoding="utf-8"))
    out.update({c["id"]: c["text"] for c in data["copies"]})
    return out


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, str], list[dict[str, object]]]:
    data = json.loads((FIXTURES / "neardup_set.json").read_text(encoding="utf-8"))
    return _texts(), data["pairs"]


def test_normalize_ignores_case_quotes_dashes_and_spacing() -> None:
    a = "Kim habe ihm einen „großartigen Brief“ geschrieben – sagte Trump.\n\nMehr dazu"
    b = 'KIM habe  ihm einen "großartigen Brief" geschrieben - sagte Trump. Mehr dazu'
    assert dedup.normalize_text(a) == dedup.normalize_text(b)
    assert dedup.content_hash(a) == dedup.content_hash(b)
    assert dedup.content_hash(a) != dedup.content_hash(a + " Ende")
    # soft hyphen (invisible) must not split a word
    assert dedup.normalize_text("Atom\u00adwaffen") == "atomwaffen"


def test_shingles_are_word_four_grams() -> None:
    assert dedup.shingles("a b c d e") == {"a b c d", "b c d e"}
    assert dedup.shingles("a b") == {"a b"}
    assert dedup.shingles("  ") == set()


def test_fingerprint_is_deterministic_across_processes() -> None:
    text = (FIXTURES / "articles.json").read_text(encoding="utf-8")[:5000]
    here = dedup.fingerprint(text)
    code = (
        "import sys; from pipeline.enrich import fingerprints as dedup; "
        "fp = dedup.fingerprint(sys.stdin.read()); "
        "print(fp.signature.hex()); print(dedup.band_keys(fp))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=ROOT,
    ).stdout.splitlines()
    assert out[0] == here.signature.hex()
    assert out[1] == str(dedup.band_keys(here))


def test_band_keys_pinned_value() -> None:
    # Stored band keys must stay valid across releases and machines: a change
    # of hashing, seed or parameters shows up here (and needs a re-index).
    fp = dedup.fingerprint("Nordkoreas Machthaber Kim Jong Un hat einen Brief an Trump geschrieben")
    keys = dedup.band_keys(fp)
    assert len(keys) == dedup.BANDS == 32
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert len(set(keys)) == len(keys)
    assert keys[:2] == PINNED_KEYS


PINNED_KEYS = [5956565535709304256, 8851866645773166217]


def test_jaccard_estimate_tracks_exact(labelled: tuple[dict[str, str], list[dict]]) -> None:
    texts, pairs = labelled
    errors = []
    for p in pairs[::15]:
        a, b = texts[str(p["a"])], texts[str(p["b"])]
        est = dedup.jaccard_estimate(dedup.fingerprint(a), dedup.fingerprint(b))
        errors.append(abs(est - dedup.exact_jaccard(a, b)))
    errors.sort()
    # 128 rows: standard error <= 0.045; allow a few 3-sigma outliers
    assert errors[len(errors) // 2] < 0.03
    assert errors[-1] < 0.15


def test_short_texts_are_never_near_duplicates() -> None:
    a = dedup.fingerprint("Kim Jong Un trifft Trump in Hanoi.")
    assert not dedup.compare(a, a).is_duplicate
    empty = dedup.fingerprint("")
    assert empty.shingles == 0 and dedup.jaccard_estimate(empty, empty) == 0.0


def test_precision_and_recall_on_labelled_set(
    labelled: tuple[dict[str, str], list[dict]],
) -> None:
    """LSH candidate retrieval + verification, exactly as the stored index does it."""
    texts, pairs = labelled
    fps = {i: dedup.fingerprint(t) for i, t in texts.items()}
    index: dict[int, set[str]] = defaultdict(set)
    for i, fp in fps.items():
        for k in dedup.band_keys(fp):
            index[k].add(i)
    tp = fp_ = fn = 0
    misses: dict[str, int] = defaultdict(int)
    for p in pairs:
        a, b = str(p["a"]), str(p["b"])
        candidate = any(b in index[k] for k in dedup.band_keys(fps[a]))
        predicted = candidate and dedup.compare(fps[a], fps[b]).is_duplicate
        if predicted and p["duplicate"]:
            tp += 1
        elif predicted:
            fp_ += 1
            misses[f"FP {p['kind']}"] += 1
        elif p["duplicate"]:
            fn += 1
            misses[f"FN {p['kind']}"] += 1
    precision = tp / (tp + fp_)
    recall = tp / (tp + fn)
    n_pos = sum(1 for p in pairs if p["duplicate"])
    print(
        f"\nnear-dup set: {n_pos} positive, {len(pairs) - n_pos} negative pairs; "
        f"precision {precision:.4f} recall {recall:.4f} errors {dict(misses)}"
    )
    assert precision >= 0.98
    assert recall >= 0.95


def test_seed_letter_articles_are_not_duplicates() -> None:
    docs = {d["id"]: d["text"] for d in json.loads((FIXTURES / "articles.json").read_text())}
    m = dedup.compare(dedup.fingerprint(docs["seed:001"]), dedup.fingerprint(docs["seed:003"]))
    assert not m.is_duplicate and m.jaccard < 0.1
