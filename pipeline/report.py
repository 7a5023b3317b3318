"""StageReport: the counters and errors every stage returns.

Task logs print ``summary_line()``; the CLI prints it too; the digest's health
section reads the stored copies (storage.models.PipelineRun).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Errors kept per report; a pass over a broken site must not bloat the run log.
MAX_ERRORS = 200


@dataclass
class StageReport:
    """What one stage run did: counters, errors, outputs and notes for people."""

    stage: str
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    #: Files or other artefacts the stage produced (digest paths, say).
    outputs: list[str] = field(default_factory=list)
    #: Why the stage did what it did, for people ("no feed due before 09:31 UTC").
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``key``."""
        self.counts[key] += n

    def error(self, kind: str, where: str, message: str) -> None:
        """Count an error and keep it as one short line, up to MAX_ERRORS kept."""
        self.counts["errors"] += 1
        if len(self.errors) < MAX_ERRORS:
            # one line each: these end up in logs and in the digest
            self.errors.append(
                {"kind": kind, "where": where[:500], "message": " ".join(message.split())[:500]}
            )

    def merge(self, other: StageReport) -> None:
        """Add another report's counters, outputs, notes and errors (still capped) to this one."""
        self.counts.update(other.counts)
        self.outputs.extend(other.outputs)
        self.notes.extend(other.notes)
        for e in other.errors:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(e)

    def summary_line(self) -> str:
        """``stage: key=n, ...`` sorted by key, with the notes; "nothing to do" without counters."""
        parts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        why = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"{self.stage}: {parts or 'nothing to do'}{why}"

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-safe copy (what a DAG task returns as its XCom)."""
        return {
            "stage": self.stage,
            "counts": dict(self.counts),
            "errors": list(self.errors),
            "outputs": list(self.outputs),
            "notes": list(self.notes),
        }
