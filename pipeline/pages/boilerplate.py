"""Remove site furniture that survives main-text extraction.

The rules live in ``pipeline/pages/rules/boilerplate.yaml`` (package data) so that
an editor, not a programmer, adds the next "Jetzt entdecken". Each rule set
(``common``, one per language, one per site) has:

- ``drop_lines``: regexes matched against a whole stripped line; matching
  lines are removed wherever they are (newsletter ads, photo credits,
  "Mehr zum Thema ..." link lines);
- ``cut_from``: regexes for a line after which everything is page furniture
  ("Zur SZ-Startseite" and the teaser block after it); only honoured in the
  back part of a text, so a mis-fired rule cannot eat an article;
- ``strip_inline``: regexes removed from inside a line ("(Foto: dpa)").

Language rule sets apply when the language is given or unknown (the seed
texts come without one); site rule sets when the site is given. Lines that
credit a news agency are never touched: wire detection runs on the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

#: A cut_from line in the first part of a text is more likely an article
#: quoting the phrase than the start of the footer.
MIN_CUT_POSITION = 0.3

_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_LINE_SPACE = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules of one scope (common, a language or a site)."""

    drop: re.Pattern[str] | None
    cut: re.Pattern[str] | None
    inline: re.Pattern[str] | None


@dataclass(frozen=True)
class BoilerplateRules:
    """Every boilerplate rule set: the common one, one per language and one per site."""

    common: RuleSet
    languages: dict[str, RuleSet]
    sites: dict[str, RuleSet]

    def applicable(self, language: str | None, site: str | None) -> list[RuleSet]:
        """The rule sets for a text: common, its language's (all when it is unknown), its site's.

        A site's rules also apply to its subdomains; a language without rules adds none.
        """
        chosen = [self.common]
        if language is None:
            chosen.extend(self.languages.values())
        elif language in self.languages:
            chosen.append(self.languages[language])
        if site:
            for domain, rules in self.sites.items():
                if site == domain or site.endswith("." + domain):
                    chosen.append(rules)
        return chosen


def _compile(patterns: list[str], where: str, path: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"bad regex in {where}: {pattern!r}: {exc}", path=path) from exc
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _ruleset(raw: Any, where: str, path: str) -> RuleSet:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping", path=path)
    unknown = set(raw) - {"drop_lines", "cut_from", "strip_inline"}
    if unknown:
        raise ConfigError(f"unknown keys in {where}: {sorted(unknown)}", path=path)
    lists: dict[str, list[str]] = {}
    for key in ("drop_lines", "cut_from", "strip_inline"):
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}.{key} must be a list of strings", path=path)
        lists[key] = value
    return RuleSet(
        drop=_compile(lists["drop_lines"], where, path),
        cut=_compile(lists["cut_from"], where, path),
        inline=_compile(lists["strip_inline"], where, path),
    )


def parse_rules(source: str, path: str = "<boilerplate rules>") -> BoilerplateRules:
    """Compile a rules document; ConfigError names the file and line on errors."""
    try:
        raw = yaml.safe_load(source) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"malformed YAML: {exc}", path=path, line=line) from exc
    if not isinstance(raw, dict):
        raise ConfigError("top level must be a mapping", path=path)
    languages = raw.get("languages") or {}
    sites = raw.get("sites") or {}
    if not isinstance(languages, dict) or not isinstance(sites, dict):
        raise ConfigError("languages and sites must be mappings", path=path)
    return BoilerplateRules(
        common=_ruleset(raw.get("common"), "common", path),
        languages={str(k): _ruleset(v, f"languages.{k}", path) for k, v in languages.items()},
        sites={str(k).lower(): _ruleset(v, f"sites.{k}", path) for k, v in sites.items()},
    )


def load_rules(path: Path) -> BoilerplateRules:
    """Rules from a YAML file (for a deployment that overrides the packaged ones)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read boilerplate rules: {exc}", path=str(path)) from exc
    return parse_rules(source, str(path))


@lru_cache(maxsize=1)
def default_rules() -> BoilerplateRules:
    """The packaged rules, compiled once per process (they are code, not configuration)."""
    source = resources.files("pipeline.pages").joinpath("rules/boilerplate.yaml").read_text("utf-8")
    return parse_rules(source, "pipeline/pages/rules/boilerplate.yaml")


def clean_text(
    text: str,
    *,
    language: str | None = None,
    site: str | None = None,
    rules: BoilerplateRules | None = None,
) -> str:
    """``text`` without boilerplate lines, with blank-line runs collapsed."""
    chosen = (rules or default_rules()).applicable(language, site)
    # Leading space is kept: the seed loader reads a " date YYYY-MM" first line.
    lines = [_LINE_SPACE.sub(" ", line).rstrip() for line in text.splitlines()]

    total = sum(len(line) + 1 for line in lines) or 1
    position = 0
    for index, line in enumerate(lines):
        if position / total >= MIN_CUT_POSITION and any(
            r.cut is not None and r.cut.fullmatch(line.strip()) for r in chosen
        ):
            lines = lines[:index]
            break
        position += len(line) + 1

    kept: list[str] = []
    for line in lines:
        for r in chosen:
            if line and r.inline is not None:
                line = r.inline.sub("", line).rstrip()
        bare = line.strip()
        if bare and any(r.drop is not None and r.drop.fullmatch(bare) for r in chosen):
            continue
        kept.append(line)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip("\n")
