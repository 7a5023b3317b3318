"""Per-publisher body and date selectors, versioned by layout date (rules/sites.yaml).

A site's layouts are tried newest first; the first whose body selector yields at least
``MIN_SITE_CHARS`` of text wins. A selector that no longer matches (the next relaunch) simply
yields nothing, and the general candidates take over: a stale rule costs nothing but its
evaluation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from lxml import etree
from lxml.html import HtmlElement

from pipeline.errors import ConfigError
from pipeline.pages.candidates import Candidate, selector_text

#: Article.extraction_method is VARCHAR(32); a layout's name must fit.
MAX_METHOD_CHARS = 32
#: Less body text than this from a site selector means the layout does not fit the page.
MIN_SITE_CHARS = 400


@dataclass(frozen=True)
class Layout:
    """One layout of one site: valid since ``since``; compiled XPaths."""

    site: str
    since: date
    body: str
    drop: tuple[str, ...] = ()
    date: str | None = None

    @property
    def name(self) -> str:
        """The extraction method recorded for text from this layout (``site:<site>@<since>``)."""
        return f"site:{self.site}@{self.since.isoformat()}"


def _compile(xpath: str, where: str, path: str) -> str:
    try:
        etree.XPath(xpath)
    except etree.XPathSyntaxError as exc:
        raise ConfigError(f"bad XPath in {where}: {xpath!r}: {exc}", path=path) from exc
    return xpath


def parse_site_rules(source: str, path: str = "<site rules>") -> dict[str, tuple[Layout, ...]]:
    """Site -> layouts (newest first); ConfigError names the site and the bad entry."""
    try:
        raw = yaml.safe_load(source) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed YAML: {exc}", path=path) from exc
    if not isinstance(raw, dict):
        raise ConfigError("top level must be a mapping of site -> layouts", path=path)
    sites: dict[str, tuple[Layout, ...]] = {}
    for site, layouts in raw.items():
        if not isinstance(layouts, list) or not layouts:
            raise ConfigError(f"{site}: expected a list of layouts", path=path)
        parsed = [_layout(str(site).lower(), entry, path) for entry in layouts]
        sites[str(site).lower()] = tuple(sorted(parsed, key=lambda x: x.since, reverse=True))
    return sites


def _layout(site: str, entry: Any, path: str) -> Layout:
    if not isinstance(entry, dict) or "body" not in entry or "since" not in entry:
        raise ConfigError(f"{site}: each layout needs 'since' and 'body'", path=path)
    unknown = set(entry) - {"since", "body", "drop", "date"}
    if unknown:
        raise ConfigError(f"{site}: unknown keys {sorted(unknown)}", path=path)
    since = entry["since"]
    if not isinstance(since, date):
        raise ConfigError(f"{site}: 'since' must be a date (YYYY-MM-DD)", path=path)
    drop = entry.get("drop") or []
    if not isinstance(drop, list):
        raise ConfigError(f"{site}: 'drop' must be a list of XPaths", path=path)
    where = f"{site}@{since}"
    if len(f"site:{where}") > MAX_METHOD_CHARS:
        raise ConfigError(f"{where}: site name too long for extraction_method", path=path)
    return Layout(
        site=site,
        since=since,
        body=_compile(str(entry["body"]), where, path),
        drop=tuple(_compile(str(x), where, path) for x in drop),
        date=_compile(str(entry["date"]), where, path) if entry.get("date") else None,
    )


@lru_cache(maxsize=1)
def default_site_rules() -> dict[str, tuple[Layout, ...]]:
    """The packaged site rules, parsed once per process."""
    source = resources.files("pipeline.pages").joinpath("rules/sites.yaml").read_text("utf-8")
    return parse_site_rules(source, "pipeline/pages/rules/sites.yaml")


def layouts_for(
    site: str | None, rules: dict[str, tuple[Layout, ...]] | None = None
) -> tuple[Layout, ...]:
    """Layouts of ``site`` or of the registered domain it belongs to (``en.yna.co.kr``)."""
    if not site:
        return ()
    table = default_site_rules() if rules is None else rules
    while site:
        if site in table:
            return table[site]
        if "." not in site:
            return ()
        site = site.split(".", 1)[1]
    return ()


@dataclass(frozen=True)
class SiteMatch:
    """The body candidate and date string a site layout found."""

    candidate: Candidate
    date: str | None


def apply_site_rules(tree: HtmlElement, site: str | None) -> SiteMatch | None:
    """The first fitting layout's body (and date), or None. ``tree`` is not modified."""
    layouts = layouts_for(site)
    if not layouts:
        return None
    for layout in layouts:
        scope = tree
        if layout.drop:
            scope = _without(tree, layout.drop)
        text = selector_text(scope, layout.body)
        if len(text) >= MIN_SITE_CHARS:
            found = selector_text(tree, layout.date) if layout.date else ""
            return SiteMatch(Candidate(layout.name, text), found.splitlines()[0] if found else None)
    return None


def _without(tree: HtmlElement, drops: tuple[str, ...]) -> HtmlElement:
    from copy import deepcopy

    copy = deepcopy(tree)
    for xpath in drops:
        for node in copy.xpath(xpath):
            if isinstance(node, HtmlElement) and node.getparent() is not None:
                node.drop_tree()  # keeps the tail text, unlike remove()
    return copy
