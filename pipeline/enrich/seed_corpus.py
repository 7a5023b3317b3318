"""The seed corpus: parse the five given texts into articles newsmon already knows.

The files are kept exactly as delivered; everything newsmon derives from them
(date, place, clean text) is computed here, so a better cleaner later means a
re-run of ``newsmon init``, never an edit of the seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipeline.errors import ConfigError

# " date 2019-01 Washington" — a header some seeds carry. The rest of the line
# is a dateline place only when it is short; otherwise the article text starts
# right after the date on the same line (seed 002).
_HEADER = re.compile(r"\A\s*date\s+(\d{4})-(\d{2})(?:-(\d{2}))?[ \t]*([^\n]*)\n?")
_MAX_PLACE_WORDS = 4


@dataclass(frozen=True)
class SeedArticle:
    """One seed text as delivered, with what its header and the manifest say about it."""

    name: str
    raw_text: str
    body: str  # the text without the header, not yet cleaned of boilerplate
    title: str | None
    outlet: str | None
    published_at: datetime | None
    place: str | None
    language: str | None

    @property
    def url(self) -> str:
        """A stable pseudo-URL: seeds have no web address, but every article needs a key."""
        return f"seed:{self.name}"


def parse_header(raw: str) -> tuple[datetime | None, str | None, str]:
    """Split the optional ' date YYYY-MM Place' header off a seed text."""
    m = _HEADER.match(raw)
    if not m:
        return None, None, raw
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    try:
        when = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None, None, raw
    rest = m.group(4).strip()
    if rest and len(rest.split()) <= _MAX_PLACE_WORDS and not rest.endswith("."):
        return when, rest, raw[m.end() :]
    return when, None, rest + "\n" + raw[m.end() :] if rest else raw[m.end() :]


def load_seeds(seeds_dir: Path) -> list[SeedArticle]:
    """Read seeds/manifest.yaml and the texts it lists."""
    manifest = seeds_dir / "manifest.yaml"
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("seed manifest not found", path=str(manifest)) from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ConfigError(
            f"malformed YAML: {exc}".splitlines()[0],
            path=str(manifest),
            line=line + 1 if line is not None else None,
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("seeds"), list):
        raise ConfigError("expected a mapping with a 'seeds' list", path=str(manifest))
    out: list[SeedArticle] = []
    for item in data["seeds"]:
        if not isinstance(item, dict) or "file" not in item:
            raise ConfigError("every seed needs a 'file'", path=str(manifest))
        path = seeds_dir / str(item["file"])
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError("seed file listed in manifest is missing", path=str(path)) from exc
        when, place, body = parse_header(raw)
        if when is None and item.get("date"):
            when = _manifest_date(str(item["date"]), str(manifest))
        out.append(
            SeedArticle(
                name=path.name,
                raw_text=raw,
                body=body.strip(),
                title=item.get("title"),
                outlet=item.get("outlet"),
                published_at=when,
                place=place or item.get("place"),
                language=item.get("language"),
            )
        )
    return out


def _manifest_date(value: str, path: str) -> datetime:
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ConfigError(f"bad seed date {value!r} (expected YYYY-MM or YYYY-MM-DD)", path=path)
