"""pipeline.config: the one boolean vocabulary, DAG parse-time settings, connection URLs."""

from __future__ import annotations

import pytest

from pipeline.config import (
    DagSettings,
    Settings,
    database_url_from_connection,
    parse_bool,
    smtp_url_from_connection,
)
from pipeline.errors import ConfigError


def test_one_boolean_vocabulary() -> None:
    for yes in ("1", "true", "Yes", " ON ", True):
        assert parse_bool(yes) is True
    for no in ("0", "false", "No", "off", "", None, False):
        assert parse_bool(no) is False
    with pytest.raises(ConfigError, match="NEWSMON_RESPECT_ROBOTS"):
        parse_bool("maybe", "NEWSMON_RESPECT_ROBOTS")
    with pytest.raises(ConfigError, match="NEWSMON_SEND_EMPTY_DIGEST"):
        Settings.from_env({"NEWSMON_SEND_EMPTY_DIGEST": "nope"})
    assert Settings.from_env({"NEWSMON_RESPECT_ROBOTS": "off"}).fetch.respect_robots is False


def test_alert_recipients_default_to_digest_recipients() -> None:
    s = Settings.from_env({"NEWSMON_DIGEST_TO": "a@x.org, b@x.org"})
    assert s.alert_to == ("a@x.org", "b@x.org")
    s = Settings.from_env({"NEWSMON_DIGEST_TO": "a@x.org", "NEWSMON_ALERT_TO": "ops@x.org"})
    assert s.alert_to == ("ops@x.org",)


def test_dag_settings_from_env() -> None:
    d = DagSettings.from_env({})
    assert (d.ingest_shards, d.task_retries, d.timezone) == (4, None, "Europe/Berlin")
    d = DagSettings.from_env({"NEWSMON_INGEST_SHARDS": "2", "NEWSMON_TASK_RETRIES": "0"})
    assert (d.ingest_shards, d.task_retries) == (2, 0)
    with pytest.raises(ConfigError, match="NEWSMON_INGEST_SHARDS"):
        DagSettings.from_env({"NEWSMON_INGEST_SHARDS": "many"})
    with pytest.raises(ConfigError, match="at least 1"):
        DagSettings.from_env({"NEWSMON_INGEST_SHARDS": "0"})


def test_smtp_connection_becomes_newsmon_url() -> None:
    url = smtp_url_from_connection
    assert url("mail.example.org", 465, "u@x", "p:w/d", {}) == (
        "smtps://u%40x:p%3Aw%2Fd@mail.example.org:465"
    )
    assert url("mx", 587, "u", "p", {"disable_ssl": True}) == "smtp://u:p@mx:587?starttls=1"
    plain = {"disable_ssl": "true", "disable_tls": "true"}
    assert url("127.0.0.1", 2525, None, None, plain) == "smtp://127.0.0.1:2525"
    with pytest.raises(ConfigError):
        url("", 25, None, None, {})


def test_db_connection_becomes_sqlalchemy_url() -> None:
    url = database_url_from_connection
    pg = url("postgres", "db.internal", 5432, "newsmon", "s3cr3t!", "newsmon", {})
    assert pg == "postgresql+psycopg://newsmon:s3cr3t%21@db.internal:5432/newsmon"
    assert url("sqlite", "/data/newsmon.db", None, None, None, None, {}) == (
        "sqlite:////data/newsmon.db"
    )
    assert url("generic", None, None, None, None, None, {"sqlalchemy_url": "sqlite://"}) == (
        "sqlite://"
    )
    with pytest.raises(ConfigError):
        url("mysql", "h", 3306, "u", "p", "d", {})


def test_delivery_budget_parallelism_and_free_space_settings() -> None:
    default = Settings.from_env({})
    assert default.smtp_budget_seconds == 300 and default.smtp_parallel == 4
    assert default.min_free_mb == 500
    tuned = Settings.from_env(
        {
            "NEWSMON_SMTP_BUDGET_SECONDS": "42.5",
            "NEWSMON_SMTP_PARALLEL": "8",
            "NEWSMON_MIN_FREE_MB": "0",
        }
    )
    assert (tuned.smtp_budget_seconds, tuned.smtp_parallel, tuned.min_free_mb) == (42.5, 8, 0)
    # the budget must stay below the 15-minute claim lease of a send
    bad = [
        ("NEWSMON_SMTP_BUDGET_SECONDS", "900"),
        ("NEWSMON_SMTP_BUDGET_SECONDS", "0"),
        ("NEWSMON_SMTP_BUDGET_SECONDS", "soon"),
        ("NEWSMON_SMTP_PARALLEL", "0"),
    ]
    for name, value in bad:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


def test_story_settings_from_env() -> None:
    s = Settings.from_env(
        {
            "NEWSMON_STORY_WINDOW_DAYS": "5",
            "NEWSMON_STORY_QUIET_DAYS": "1.5",
            "NEWSMON_STORY_FOLLOW_UP_DAYS": "10",
            "NEWSMON_STORY_RECLUSTER_HOURS": "0",
        }
    )
    assert (s.story_window_days, s.story_quiet_days) == (5, 1.5)
    assert (s.story_follow_up_days, s.story_recluster_hours) == (10, 0)
    d = Settings.from_env({})
    assert (d.story_window_days, d.story_quiet_days, d.story_recluster_hours) == (3, 2.0, 24)
    with pytest.raises(ConfigError, match="NEWSMON_STORY_WINDOW_DAYS"):
        Settings.from_env({"NEWSMON_STORY_WINDOW_DAYS": "0"})
