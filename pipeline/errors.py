"""The exception hierarchy of newsmon.

Modelled on httpx: one base class, then a split by *what the caller should do*.
A transient error is worth retrying later (a server was down, a database was
locked); a permanent one is not (a refused address, a PDF where HTML was
expected). Airflow's retry policy and the feed-health bookkeeping both key on
this split, so every new error must pick a side.
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class of every error newsmon raises on purpose."""

    #: Worth another attempt later (network hiccup, 5xx, locked database).
    transient: bool = False

    @property
    def kind(self) -> str:
        """Short machine-readable class name, stored in attempt logs."""
        return type(self).__name__


class ConfigError(NewsmonError):
    """A configuration file or value is missing or malformed.

    The message always names the file (and the line where known) so the
    CLI can print it as a single line.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class UsageError(NewsmonError):
    """Bad command-line input (an unknown date format, say)."""


# --- fetching -------------------------------------------------------------


class FetchError(NewsmonError):
    """Base class for anything that went wrong getting bytes over HTTP."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)


class TransientFetchError(FetchError):
    """Timeouts, resets, 5xx, 429: try again on a later pass."""

    transient = True

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, url=url, status=status)


class FetchTimeout(TransientFetchError):
    """Connect, read or total time limit exceeded."""


class PermanentFetchError(FetchError):
    """4xx (other than 408/429), policy refusals, unusable content."""


class BlockedAddress(PermanentFetchError):
    """The URL's scheme or resolved address is not allowed (SSRF guard)."""


class ResponseTooLarge(PermanentFetchError):
    """Body (or its decompressed form) exceeded the configured cap."""


class TooManyRedirects(PermanentFetchError):
    """Redirect chain too long or looping."""


class UnsupportedContent(PermanentFetchError):
    """Content-Type is not something newsmon can read (PDF, image, ...)."""


class RobotsDisallowed(PermanentFetchError):
    """robots.txt of the host forbids fetching this URL for our agent."""


# --- parsing and extraction ----------------------------------------------


class FeedParseError(NewsmonError):
    """The feed body could not be read as a feed at all."""


class ExtractionError(NewsmonError):
    """No usable article text could be extracted from a page."""


# --- storage and delivery --------------------------------------------------


class StorageError(NewsmonError):
    """The database refused an operation."""


class DatabaseUnavailable(StorageError):
    """The database could not be reached; retrying later may help."""

    transient = True


class DeliveryError(NewsmonError):
    """A digest could not be handed to the SMTP server."""

    transient = True


class DeliveryRejected(DeliveryError):
    """The SMTP server refused the digest for good (5xx, bad login, bad address)."""

    transient = False


class DeliveryInDoubt(DeliveryError):
    """Another run holds the claim to send (it may be sending, or have died mid-send).

    ``retry_after`` is the rest of its lease: after that the claim can be taken
    over, and Airflow's retry policy waits that long instead of guessing.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)
