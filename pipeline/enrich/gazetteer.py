"""The actor gazetteer: typed records loaded from seeds/actors.yaml.

Loading is strict: a malformed file raises ConfigError naming file and line, because a
silently half-loaded gazetteer would make every later tagging run quietly wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

ACTOR_TYPES = ("person", "state", "organisation", "place")
#: libyaml's C parser when PyYAML was built with it (about ten times faster), same results.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Role:
    """A title held from ``start`` until ``end`` (exclusive); None leaves that side open."""

    title: str
    start: dt.date | None
    end: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        """Whether the role is held on ``day``."""
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Actor:
    """One gazetteer entry: a person, state, organisation or place and the names it goes by."""

    id: str
    name: str
    type: str  # "person" | "state" | "organisation" | "place"
    country: str | None
    aliases: tuple[str, ...]
    roles: tuple[Role, ...] = ()
    # Surnames etc. that only count after a full mention in the same text ("Kim", "Moon").
    short_forms: tuple[str, ...] = ()
    # The name a German or Korean reader knows it by (None: the same as ``name``).
    name_de: str | None = None
    name_ko: str | None = None


@dataclass
class Gazetteer:
    """Actors by id and blocker phrases.

    The alias matcher is built on first use (pipeline.enrich.actors) and kept on the
    instance, so one loaded gazetteer builds it once.
    """

    actors: dict[str, Actor]
    # Phrases that swallow an alias inside them ("Washington Post"); they tag nothing.
    blockers: frozenset[str] = frozenset()
    _matcher: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_actors(cls, actors: Iterable[Actor], blockers: Iterable[str] = ()) -> Gazetteer:
        """Index ``actors`` by id; ConfigError on a duplicate id."""
        by_id: dict[str, Actor] = {}
        for actor in actors:
            if actor.id in by_id:
                raise ConfigError(f"duplicate actor id {actor.id!r}")
            by_id[actor.id] = actor
        return cls(actors=by_id, blockers=frozenset(blockers))

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        """The gazetteer in a YAML file; ConfigError names the file (and line) if unusable."""
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read actor gazetteer: {exc.strerror}", path=where) from exc
        try:
            root = yaml.compose(text, Loader=_LOADER)
            data = yaml.load(text, Loader=_LOADER)  # _LOADER is a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise ConfigError(f"invalid YAML: {problem}", path=where, line=line) from exc
        if not isinstance(data, dict) or not isinstance(data.get("actors"), list):
            raise ConfigError("expected a mapping with an 'actors' list", path=where, line=1)
        lines = _item_lines(root)
        actors = []
        for i, raw in enumerate(data["actors"]):
            line = lines[i] if i < len(lines) else None
            actors.append(_parse_actor(raw, where, line))
        blockers = data.get("blockers") or []
        if not isinstance(blockers, list) or not all(isinstance(b, str) for b in blockers):
            raise ConfigError("'blockers' must be a list of strings", path=where)
        try:
            return cls.from_actors(actors, blockers)
        except ConfigError as exc:
            raise ConfigError(str(exc), path=where) from exc


def _item_lines(root: yaml.Node | None) -> list[int]:
    """1-based line of each entry of the top-level 'actors' list, for error messages."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "actors" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _date(value: Any, where: str, line: int | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"bad date {value!r}", path=where, line=line) from exc


def _strings(raw: dict[str, Any], key: str, where: str, line: int | None) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"'{key}' must be a list of non-empty strings", path=where, line=line)
    return tuple(value)


def _parse_actor(raw: Any, where: str, line: int | None) -> Actor:
    if not isinstance(raw, dict):
        raise ConfigError("actor entry must be a mapping", path=where, line=line)
    for key in ("id", "name", "type"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"actor entry lacks '{key}'", path=where, line=line)
    if raw["type"] not in ACTOR_TYPES:
        raise ConfigError(f"unknown actor type {raw['type']!r}", path=where, line=line)
    country = raw.get("country")
    if country is not None and (not isinstance(country, str) or len(country) != 3):
        raise ConfigError(f"country must be ISO alpha-3, got {country!r}", path=where, line=line)
    roles = []
    for r in raw.get("roles") or []:
        if not isinstance(r, dict) or not isinstance(r.get("title"), str):
            raise ConfigError("role needs a 'title'", path=where, line=line)
        roles.append(
            Role(r["title"], _date(r.get("start"), where, line), _date(r.get("end"), where, line))
        )
    aliases = _strings(raw, "aliases", where, line)
    if not aliases:
        aliases = (raw["name"],)
    return Actor(
        id=raw["id"],
        name=raw["name"],
        type=raw["type"],
        country=country,
        aliases=aliases,
        roles=tuple(roles),
        short_forms=_strings(raw, "short", where, line),
        name_de=_optional_name(raw, "name_de", where, line),
        name_ko=_optional_name(raw, "name_ko", where, line),
    )


def _optional_name(raw: dict[str, Any], key: str, where: str, line: int | None) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'{key}' must be a non-empty string", path=where, line=line)
    return value.strip()
