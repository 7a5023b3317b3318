"""Content identity and near-duplicate fingerprints (pure).

Three levels of "already known": the same canonical URL (handled by the
caller), the same normalised text (``content_hash``) and near-duplicate text
(MinHash over word shingles, looked up through LSH band keys).

Everything here is deterministic across processes and machines: shingles are
hashed with BLAKE2b and the MinHash permutations come from a fixed seed, never
from Python's randomised ``hash()``; a signature computed on one worker must
match the band keys another worker stored months ago.

Parameters (measured on tests/fixtures/dedup/neardup_set.json; docs/dedup.md):

* ``SHINGLE_WORDS = 4``: 4-word shingles. Independently written articles on
  one story then stay below Jaccard 0.15 (shared names and quotes make 3-word
  shingles collide more), while rewritten wire copies stay above 0.34.
* ``NUM_PERM = 128`` rows estimate Jaccard to about +-0.04 near the threshold.
* LSH uses the first ``BANDS * ROWS = 64`` rows in 32 bands of 2 rows: a pair
  with Jaccard 0.3 shares a band with probability 0.95, at 0.4 with 0.995, at
  0.01 (unrelated) with 0.003. 32 index rows per article keep the index small
  (32 M rows at 1 M articles); four-row bands would miss 2 % of the copies.
* Verdict: estimated Jaccard >= ``JACCARD_THRESHOLD`` (0.3), or estimated
  containment of the smaller text in the larger >= ``CONTAINMENT_THRESHOLD``
  (0.55) with Jaccard at least ``CONTAINMENT_MIN_JACCARD`` (0.2): a teaser or a
  cut reprint is contained in its original although their Jaccard is low.
  Measured: independent same-story pairs reach Jaccard 0.15 / containment 0.42;
  copies start at 0.34 / 0.58.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHINGLE_WORDS = 4
NUM_PERM = 128
BANDS = 32
ROWS = 2
JACCARD_THRESHOLD = 0.3
CONTAINMENT_THRESHOLD = 0.55
CONTAINMENT_MIN_JACCARD = 0.2
#: Texts with fewer shingles than this are too short to call near duplicates
#: (a teaser or a paywall stub shares its few shingles with anything).
MIN_SHINGLES = 25
#: Fixed seed of the permutation family; changing it invalidates stored band keys.
MINHASH_SEED = 0x6E6577736D6F6E  # "newsmon"

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2039": "'",
        "\u203a": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u00ad": None,  # soft hyphen: invisible, but splits words for a tokenizer
        "\u200b": None,
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Case-, accent-form-, quote- and whitespace-insensitive form of ``text``.

    Punctuation is dropped, so the hash and the shingles do not change when a
    site swaps quote styles, dashes or re-wraps lines.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(_WORD.findall(text))


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text: the exact-duplicate key (Article.text_hash)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    """The words of the normalised text, in order."""
    return normalize_text(text).split()


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[str]:
    """The set of k-word shingles of the normalised text (one shingle if shorter)."""
    toks = words(text)
    if not toks:
        return set()
    if len(toks) <= k:
        return {" ".join(toks)}
    return {" ".join(toks[i : i + k]) for i in range(len(toks) - k + 1)}


def _shingle_hashes(items: set[str]) -> npt.NDArray[np.uint64]:
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")
            for s in items
        ),
        dtype=np.uint64,
        count=len(items),
    )


def _perm_seeds() -> npt.NDArray[np.uint64]:
    rng = np.random.Generator(np.random.PCG64(MINHASH_SEED))
    return rng.integers(0, 2**64 - 1, size=NUM_PERM, dtype=np.uint64, endpoint=True)


_SEEDS = _perm_seeds()


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: a bijective 64-bit mixer, so each seed gives a permutation."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (x ^ (x >> np.uint64(31))) & _MASK64


@dataclass(frozen=True)
class TextFingerprint:
    """MinHash signature (NUM_PERM uint32 values) and the shingle-set size."""

    signature: bytes
    shingles: int

    def values(self) -> npt.NDArray[np.uint32]:
        """The signature as NUM_PERM uint32 values (a read-only view of the bytes, no copy)."""
        return np.frombuffer(self.signature, dtype="<u4")


def fingerprint(text: str) -> TextFingerprint:
    """MinHash signature of ``text``'s word shingles (empty text: all-max signature)."""
    items = shingles(text)
    if not items:
        sig = np.full(NUM_PERM, 0xFFFFFFFF, dtype="<u4")
        return TextFingerprint(sig.tobytes(), 0)
    hashes = _shingle_hashes(items)
    with np.errstate(over="ignore"):
        # (NUM_PERM, n) matrix of permuted hashes; the minimum per row is the signature.
        mixed = _mix64(hashes[np.newaxis, :] ^ _SEEDS[:, np.newaxis])
    # Keep the top 32 bits: the mixer's best bits, half the storage, and a
    # collision rate (2^-32 per row) far below MinHash's own estimation error.
    sig = (mixed.min(axis=1) >> np.uint64(32)).astype("<u4")
    return TextFingerprint(sig.tobytes(), len(items))


def band_keys(fp: TextFingerprint) -> list[int]:
    """One signed 64-bit key per band, with the band number folded into the hash.

    Folding the band in means one ``band_key IN (...)`` probe of the primary
    key finds every article that agrees on any band, without a second column.
    """
    sig = fp.values()
    keys: list[int] = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(
            band.to_bytes(2, "little") + chunk, digest_size=8, person=b"newsmon-lsh"
        ).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def jaccard_estimate(a: TextFingerprint, b: TextFingerprint) -> float:
    """Fraction of agreeing MinHash rows: an unbiased estimate of Jaccard similarity."""
    if a.shingles == 0 or b.shingles == 0:
        return 0.0
    return float(np.count_nonzero(a.values() == b.values())) / NUM_PERM


def containment_estimate(
    a: TextFingerprint, b: TextFingerprint, jaccard: float | None = None
) -> float:
    """Estimated |A ∩ B| / min(|A|, |B|), from the Jaccard estimate and the set sizes."""
    j = jaccard_estimate(a, b) if jaccard is None else jaccard
    small = min(a.shingles, b.shingles)
    if small == 0:
        return 0.0
    inter = j / (1.0 + j) * (a.shingles + b.shingles)
    return min(1.0, inter / small)


def exact_jaccard(a: str, b: str) -> float:
    """True Jaccard similarity of two texts' shingle sets (for measurement and tests)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


@dataclass(frozen=True)
class NearMatch:
    """Outcome of ``compare``: the verdict and the Jaccard and containment estimates behind it."""

    jaccard: float
    containment: float
    is_duplicate: bool


def compare(a: TextFingerprint, b: TextFingerprint) -> NearMatch:
    """Decide whether two fingerprints are near duplicates, with the figures that decided."""
    j = jaccard_estimate(a, b)
    c = containment_estimate(a, b, j)
    long_enough = min(a.shingles, b.shingles) >= MIN_SHINGLES
    contained = c >= CONTAINMENT_THRESHOLD and j >= CONTAINMENT_MIN_JACCARD
    dup = long_enough and (j >= JACCARD_THRESHOLD or contained)
    return NearMatch(round(j, 4), round(c, 4), dup)
