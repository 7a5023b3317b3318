"""Was the monitor working on a day? Pure rules over counts read from the database.

A digest must never call a day calm when newsmon was blind on it. The state is:

* ``not-started``: newsmon had not polled a single feed before the day ended (the
  digest of yesterday that a first start builds at once). Written with a note,
  never emailed (see README "Digest days before the first run").
* ``failed``: the monitor existed but could not watch: no ingest run in the
  window (``no-ingest``), no feed poll that succeeded (``no-poll``), most polled
  feeds failing (``most-feeds``), a local network outage (``outage``), database
  errors recorded by a run (``database``).
* ``ok``: none of that; a day without stories is then truly quiet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Error kinds of pipeline.errors.StorageError and its subclasses.
STORAGE_KINDS = frozenset({"StorageError", "DatabaseUnavailable", "DatabaseRefused"})
FAILURE_CODES = ("no-ingest", "no-poll", "most-feeds", "outage", "database")


def day_state(
    *,
    start: datetime,
    end: datetime,
    first_attempt: datetime | None,
    first_success: datetime | None,
    last_success: datetime | None,
    ok_attempts: int,
    feeds_polled: int,
    feeds_failing: int,
    ingest_runs: int,
    outage: bool,
    database_errors: int,
) -> dict[str, Any]:
    """The Health fields ``state``, ``failures`` and what they rest on."""
    facts: dict[str, Any] = {
        "first_success": first_success,
        "last_success": last_success,
        "feeds_polled": feeds_polled,
        "feeds_failing": feeds_failing,
    }
    if first_attempt is None or first_attempt >= end:
        return {**facts, "state": "not-started", "failures": ()}
    failures = []
    if ingest_runs == 0:
        failures.append("no-ingest")
    if ok_attempts == 0:
        failures.append("no-poll")
    if feeds_polled and feeds_failing * 2 > feeds_polled:
        failures.append("most-feeds")
    if outage:
        failures.append("outage")
    if database_errors:
        failures.append("database")
    return {**facts, "state": "failed" if failures else "ok", "failures": tuple(failures)}
