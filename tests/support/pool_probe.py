"""Functions a test submits to a pool worker to look inside it (importable there)."""

from __future__ import annotations


def loaded_date_locales() -> int:
    """How many dateparser locales this process has loaded so far."""
    from dateparser.languages.loader import default_loader

    return len(default_loader._loaded_locales)
