"""One explicit, frozen configuration object.

Every entry point (CLI, Airflow task, test) builds a :class:`Settings` once and
passes it down. Nothing else in newsmon reads the environment, so a test can
run two configurations side by side in one process.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError
from seeds import SEEDS_DIR

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The enrichment steps of one article, in the order they run (reprocess --steps, the
#: reprocess DAG's Params); kept here because the DAG files read it at parse time.
ENRICH_STEPS: tuple[str, ...] = ("extract", "relevance", "dedup", "actors", "stories")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(value: object, name: str = "value") -> bool:
    """The one boolean vocabulary of newsmon: 1/true/yes/on and 0/false/no/off (any case).

    Anything else is a ConfigError naming the setting, never a silent guess.
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name}: expected 1/0, true/false, yes/no or on/off, got {value!r}")


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
    #: Longest Retry-After (seconds) a page or host is granted; longer asks are cut to this.
    max_retry_after: float = 6 * 3600.0
    #: Ceiling of the per-host spacing that 429/503 answers raise during a pass.
    max_host_delay: float = 30.0


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _default_share_dir() -> Path:
    # machine-wide, not per NEWSMON_HOME: two homes on one machine share its cores too
    return Path(tempfile.gettempdir()) / f"newsmon-cpu-share-{os.getuid()}"


@dataclass(frozen=True)
class IngestSettings:
    """How one ingest pass streams pages (see pipeline.ingest.stream)."""

    #: Processes doing the CPU work (parse, extract, relevance, fingerprints, tagging) on
    #: this machine, shared by the passes running on it at once (each gets workers // passes,
    #: at least 1); 1 runs it in a thread of the ingesting process itself.
    workers: int = field(default_factory=_default_workers)
    #: Where running passes register, so that passes on one machine share its cores.
    share_dir: Path = field(default_factory=_default_share_dir)
    #: Pages of one feed fetched per pass at most (a flooding feed waits for the next pass).
    feed_budget: int = 200
    #: Seconds after which a pass stops claiming new pages (in-flight ones are finished).
    pass_seconds: float = 20 * 60.0
    #: Seconds a claimed page stays reserved for the claiming run.
    claim_lease: float = 15 * 60.0
    #: Concurrent page fetches of one pass (bodies in memory at once are bounded by it).
    page_concurrency: int = 16


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
    #: Permission bits of the files under digests/ (0o644: a web server may serve feed.atom).
    digest_file_mode: int = 0o644
    story_window_days: int = 3
    #: A story with no new member for this many days takes no more: a new report opens a
    #: follow-up story linked to it.
    story_quiet_days: float = 2.0
    #: How far back a quiet story is looked for when linking a follow-up.
    story_follow_up_days: int = 30
    #: Ingest re-clusters (merges/splits) the stories of the last this-many hours.
    story_recluster_hours: int = 24
    #: Who gets operational alerts (failed tasks, missed deadlines); default: digest_to.
    alert_to: tuple[str, ...] = ()
    fetch: FetchSettings = field(default_factory=FetchSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    #: Wall-clock budget for handing one digest to SMTP, all recipients, retries and
    #: pauses included (NEWSMON_SMTP_BUDGET_SECONDS); below the claim lease of 15 minutes,
    #: so a claim never expires while its sender is still within budget.
    smtp_budget_seconds: float = 300.0
    #: Recipients sent at the same time (NEWSMON_SMTP_PARALLEL).
    smtp_parallel: int = 4
    #: ``newsmon doctor`` fails the disk check below this much free space (NEWSMON_MIN_FREE_MB).
    min_free_mb: int = 500

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which the monitor's days begin and end."""
        return ZoneInfo(self.timezone)

    @property
    def digests_dir(self) -> Path:
        """Where digest files (.html, .txt, .json) and feed.atom are written."""
        return self.home / "digests"

    @property
    def cache_dir(self) -> Path:
        """Derived data that can be rebuilt at any time (compiled gazetteer)."""
        return self.home / "cache"

    @property
    def spool_dir(self) -> Path:
        """Fetched page bodies not yet stored (kept across a crash, see pipeline.pages.spool)."""
        return self.home / "spool"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (settings are frozen)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from NEWSMON_* variables (README: Configuration), then apply overrides."""
        env = os.environ if env is None else env
        home = Path(env.get("NEWSMON_HOME") or "./var").expanduser()
        database_url = env.get("NEWSMON_DATABASE_URL") or f"sqlite:///{home / 'newsmon.db'}"
        feeds = Path(env.get("NEWSMON_FEEDS") or default_feed_list(home))
        actors = Path(env.get("NEWSMON_ACTORS") or SEEDS_DIR / "actors.yaml")
        relevance = Path(env.get("NEWSMON_RELEVANCE") or SEEDS_DIR / "relevance.yaml")
        tz = env.get("NEWSMON_TIMEZONE") or "Europe/Berlin"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"NEWSMON_TIMEZONE: unknown time zone {tz!r}") from exc
        recipients = _addresses(env.get("NEWSMON_DIGEST_TO"))
        lang = (env.get("NEWSMON_DIGEST_LANGUAGE") or "de").lower()
        if lang not in ("de", "en"):
            raise ConfigError(f"NEWSMON_DIGEST_LANGUAGE: expected de or en, got {lang!r}")
        fetch = FetchSettings(
            allow_private_networks=parse_networks(env.get("NEWSMON_ALLOW_PRIVATE_NETWORKS", "")),
            contact=env.get("NEWSMON_CONTACT", ""),
            respect_robots=parse_bool(
                env.get("NEWSMON_RESPECT_ROBOTS", "1"), "NEWSMON_RESPECT_ROBOTS"
            ),
            per_host_delay=_float(env, "NEWSMON_PER_HOST_DELAY", 1.0),
            max_retry_after=_float(env, "NEWSMON_MAX_RETRY_AFTER", 6 * 3600.0),
        )
        ingest = IngestSettings(
            workers=_int(env, "NEWSMON_WORKERS", _default_workers(), minimum=1),
            feed_budget=_int(env, "NEWSMON_FEED_BUDGET", 200, minimum=1),
            pass_seconds=_float(env, "NEWSMON_PASS_SECONDS", 20 * 60.0),
            claim_lease=_float(env, "NEWSMON_CLAIM_LEASE", 15 * 60.0),
            page_concurrency=_int(env, "NEWSMON_PAGE_CONCURRENCY", 16, minimum=1),
            share_dir=Path(env.get("NEWSMON_CPU_SHARE_DIR") or _default_share_dir()),
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
            send_empty_digest=parse_bool(
                env.get("NEWSMON_SEND_EMPTY_DIGEST", "1"), "NEWSMON_SEND_EMPTY_DIGEST"
            ),
            alert_to=_addresses(env.get("NEWSMON_ALERT_TO")) or recipients,
            story_window_days=_int(env, "NEWSMON_STORY_WINDOW_DAYS", 3, minimum=1),
            story_quiet_days=_float(env, "NEWSMON_STORY_QUIET_DAYS", 2.0),
            story_follow_up_days=_int(env, "NEWSMON_STORY_FOLLOW_UP_DAYS", 30, minimum=0),
            story_recluster_hours=_int(env, "NEWSMON_STORY_RECLUSTER_HOURS", 24, minimum=0),
            digest_file_mode=_file_mode(env.get("NEWSMON_DIGEST_FILE_MODE")),
            fetch=fetch,
            ingest=ingest,
            smtp_budget_seconds=_bounded_float(
                env, "NEWSMON_SMTP_BUDGET_SECONDS", 300.0, 1.0, SMTP_BUDGET_MAX
            ),
            smtp_parallel=_int(env, "NEWSMON_SMTP_PARALLEL", 4, minimum=1),
            min_free_mb=_int(env, "NEWSMON_MIN_FREE_MB", 500),
        )
        return replace(settings, **overrides) if overrides else settings


def _file_mode(raw: str | None) -> int:
    """An octal permission string such as 644 or 0640 (owner must keep read and write)."""
    value = (raw or "").strip()
    if not value:
        return 0o644
    try:
        mode = int(value, 8)
    except ValueError as exc:
        raise ConfigError(f"NEWSMON_DIGEST_FILE_MODE: not an octal mode: {value!r}") from exc
    if not 0 <= mode <= 0o777 or mode & 0o600 != 0o600:
        raise ConfigError(
            f"NEWSMON_DIGEST_FILE_MODE: {value!r} must be 000-777 and keep owner read/write"
        )
    return mode


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: not a number: {raw!r}") from exc


def default_feed_list(home: Path) -> Path:
    """The feed list used when NEWSMON_FEEDS is not set.

    ``$NEWSMON_HOME/feeds.yaml`` once the user has one (``newsmon feeds import`` writes
    it), else the bundled list: an import never edits the package's own files.
    """
    own = home / "feeds.yaml"
    return own if own.exists() else SEEDS_DIR / "feeds.yaml"


#: The largest delivery budget: safely below deliver.CLAIM_LEASE (15 minutes).
SMTP_BUDGET_MAX = 600.0


def _bounded_float(
    env: Mapping[str, str], name: str, default: float, low: float, high: float
) -> float:
    value = _float(env, name, default)
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low:g} and {high:g}, got {value:g}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: not a whole number: {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _addresses(value: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (value or "").split(",") if a.strip())


@dataclass(frozen=True)
class DagSettings:
    """What the Airflow DAG files need at parse time (schedules, shard count, retries).

    Read from the environment only (cheap, no API call), by the DAG files through
    :meth:`from_env`; everything a task needs at run time is in :class:`Settings`.
    """

    timezone: str = "Europe/Berlin"
    ingest_schedule: str = "*/30 * * * *"
    ingest_shards: int = 4
    #: Overrides every task's retry count when set (tests use 0 to fail at once).
    task_retries: int | None = None
    #: First retry delay of every task in seconds (backoff doubles it, capped at 30 min).
    task_retry_delay_seconds: int = 120
    digest_deadline_minutes: int = 60
    http_pool_slots: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DagSettings:
        """Build from NEWSMON_* variables; ConfigError naming the variable on a bad value."""
        env = os.environ if env is None else env
        return cls(
            timezone=env.get("NEWSMON_TIMEZONE") or "Europe/Berlin",
            ingest_schedule=env.get("NEWSMON_INGEST_SCHEDULE") or "*/30 * * * *",
            ingest_shards=_int(env, "NEWSMON_INGEST_SHARDS", 4, minimum=1),
            task_retries=(
                _int(env, "NEWSMON_TASK_RETRIES", 0) if env.get("NEWSMON_TASK_RETRIES") else None
            ),
            task_retry_delay_seconds=_int(env, "NEWSMON_TASK_RETRY_DELAY", 120, minimum=1),
            digest_deadline_minutes=_int(env, "NEWSMON_DIGEST_DEADLINE_MINUTES", 60),
            http_pool_slots=_int(env, "NEWSMON_HTTP_POOL_SLOTS", 4, minimum=1),
        )


# --- URLs from an operator's connection fields (Airflow Connections) ---------------


def _userinfo(login: str | None, password: str | None) -> str:
    """``login:password@`` with both parts percent-quoted, or "" without a login."""
    if not login:
        return ""
    return quote(login, safe="") + (":" + quote(password, safe="") if password else "") + "@"


def smtp_url_from_connection(
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any],
) -> str:
    """Turn SMTP connection fields into newsmon's smtp:// URL.

    Follows the Airflow smtp provider's meaning of the extras: SSL unless
    ``disable_ssl``; otherwise STARTTLS unless ``disable_tls``.
    """
    if not host:
        raise ConfigError("SMTP connection has no host")
    ssl = not parse_bool(extra.get("disable_ssl", False), "disable_ssl")
    starttls = not ssl and not parse_bool(extra.get("disable_tls", False), "disable_tls")
    scheme = "smtps" if ssl else "smtp"
    netloc = f"{_userinfo(login, password)}{host}" + (f":{port}" if port else "")
    return f"{scheme}://{netloc}" + ("?starttls=1" if starttls else "")


def database_url_from_connection(
    conn_type: str | None,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: Mapping[str, Any],
) -> str:
    """Turn database connection fields into an SQLAlchemy URL for newsmon's storage."""
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{host or ''}"
    if kind in ("postgres", "postgresql"):
        netloc = f"{_userinfo(login, password)}{host or 'localhost'}" + (f":{port}" if port else "")
        return f"postgresql+psycopg://{netloc}/{schema or ''}"
    raise ConfigError(f"connection type {conn_type!r} is not supported for newsmon's database")
