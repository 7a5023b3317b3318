"""Whether a digest run sends, and to whom: Airflow's run types and params, decided once.

Scheduled and manual runs send by default, backfills only when asked, dry runs never; a run
without SMTP or without recipients writes the digest and says why it did not send.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.config import Settings


def should_send(*, run_type: str, send: bool | None, dry_run: bool) -> bool:
    """Scheduled and manual runs send by default; backfills only when asked; dry runs never."""
    if dry_run:
        return False
    if send is not None:
        return bool(send)
    return run_type != "backfill"


def plan_delivery(
    settings: Settings,
    *,
    run_type: str,
    send: bool | None,
    dry_run: bool,
    recipients: Sequence[str] = (),
) -> tuple[bool, list[str], str | None]:
    """Whether a run sends and to whom; the note says why it does not when it cannot.

    ``recipients`` (a run's param) overrides NEWSMON_DIGEST_TO; without SMTP or without
    recipients nothing is sent, and the note is the log line that says so.
    """
    wanted = should_send(run_type=run_type, send=send, dry_run=dry_run)
    to = list(recipients or settings.digest_to)
    if wanted and not settings.smtp_url:
        return False, to, "SMTP is not configured (connection newsmon_smtp / NEWSMON_SMTP_URL)"
    if wanted and not to:
        return False, to, "no recipients (param or NEWSMON_DIGEST_TO)"
    return wanted, to, None
