"""One explicit, frozen configuration object.

Every entry point (CLI, Airflow task, test) builds a :class:`Settings` once and
passes it down. Nothing else in newsmon reads the environment, so a test can
run two configurations side by side in one process.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError
from seeds import SEEDS_DIR

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """Parse a comma-separated CIDR list; raises ConfigError on a bad entry."""
    nets: list[IPNetwork] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(f"NEWSMON_ALLOW_PRIVATE_NETWORKS: not a network: {part!r}") from exc
    return tuple(nets)


@dataclass(frozen=True)
class FetchSettings:
    """Limits and manners of the HTTP client (see pipeline.net.client)."""

    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon; Korea news monitor)"
    contact: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 8 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 50
    per_host_connections: int = 2
    per_host_delay: float = 1.0
    respect_robots: bool = True
    allow_private_networks: tuple[IPNetwork, ...] = ()
    max_page_attempts: int = 5


@dataclass(frozen=True)
class Settings:
    """Everything newsmon needs to know, resolved once."""

    home: Path
    database_url: str
    feeds_path: Path
    actors_path: Path
    relevance_path: Path = SEEDS_DIR / "relevance.yaml"
    seeds_dir: Path = SEEDS_DIR
    smtp_url: str | None = None
    digest_to: tuple[str, ...] = ()
    digest_from: str | None = None
    timezone: str = "Europe/Berlin"
    digest_language: str = "de"
    send_empty_digest: bool = True
    story_window_days: int = 3
    fetch: FetchSettings = field(default_factory=FetchSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def digests_dir(self) -> Path:
        return self.home / "digests"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from NEWSMON_* variables (see DESIGN.md), then apply overrides."""
        env = os.environ if env is None else env
        home = Path(env.get("NEWSMON_HOME") or "./var").expanduser()
        database_url = env.get("NEWSMON_DATABASE_URL") or f"sqlite:///{home / 'newsmon.db'}"
        feeds = Path(env.get("NEWSMON_FEEDS") or SEEDS_DIR / "feeds.yaml")
        actors = Path(env.get("NEWSMON_ACTORS") or SEEDS_DIR / "actors.yaml")
        relevance = Path(env.get("NEWSMON_RELEVANCE") or SEEDS_DIR / "relevance.yaml")
        tz = env.get("NEWSMON_TIMEZONE") or "Europe/Berlin"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"NEWSMON_TIMEZONE: unknown time zone {tz!r}") from exc
        recipients = tuple(
            a.strip() for a in (env.get("NEWSMON_DIGEST_TO") or "").split(",") if a.strip()
        )
        lang = (env.get("NEWSMON_DIGEST_LANGUAGE") or "de").lower()
        if lang not in ("de", "en"):
            raise ConfigError(f"NEWSMON_DIGEST_LANGUAGE: expected de or en, got {lang!r}")
        fetch = FetchSettings(
            allow_private_networks=parse_networks(env.get("NEWSMON_ALLOW_PRIVATE_NETWORKS", "")),
            contact=env.get("NEWSMON_CONTACT", ""),
            respect_robots=env.get("NEWSMON_RESPECT_ROBOTS", "1") not in ("0", "false", "no"),
            per_host_delay=_float(env, "NEWSMON_PER_HOST_DELAY", 1.0),
        )
        settings = cls(
            home=home,
            database_url=database_url,
            feeds_path=feeds,
            actors_path=actors,
            relevance_path=relevance,
            smtp_url=env.get("NEWSMON_SMTP_URL") or None,
            digest_to=recipients,
            digest_from=env.get("NEWSMON_DIGEST_FROM") or None,
            timezone=tz,
            digest_language=lang,
            send_empty_digest=env.get("NEWSMON_SEND_EMPTY_DIGEST", "1") not in ("0", "false", "no"),
            fetch=fetch,
        )
        return replace(settings, **overrides) if overrides else settings


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: not a number: {raw!r}") from exc
