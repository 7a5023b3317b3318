"""The exception hierarchy of newsmon.

Modelled on httpx's ``_exceptions.py``: one base class, and every error sits on
two axes that never mix. *What failed* is the domain base (FetchError,
DeliveryError, ...); *what the caller should do* is exactly one of
TransientError (worth retrying later: a server was down, a database was
locked) or PermanentError (retrying cannot help: a refused address, a PDF where
HTML was expected, a bad setting). Airflow's retry policy, the feed-health
bookkeeping and the page queue key only on the second axis, so every concrete
error picks a side by inheriting from one of the two.

::

    NewsmonError                      .transient, .retry_after, .kind
    ├── TransientError                retry later (retry_after: seconds to wait, if known)
    └── PermanentError                do not retry
    ConfigError (Permanent)           a setting or configuration file is wrong
    UsageError (Permanent)            bad command-line input
    FetchError                        getting bytes over HTTP
    ├── TransientFetchError (Transient)   timeout, reset, 5xx, 429
    │   ├── FetchTimeout
    │   └── HostBackoff               not asked: the host said Retry-After for longer
    │   └── HostNotFound              DNS: no such host (transient up to a limit, see feeds.health)
    └── PermanentFetchError (Permanent)   4xx, policy refusals, unusable content
        ├── BlockedAddress            SSRF guard: scheme or address not allowed
        ├── ResponseTooLarge
        ├── TooManyRedirects
        ├── UnsupportedContent
        └── RobotsDisallowed
    FeedParseError (Permanent)        the body is not a feed at all
    ExtractionError (Permanent)       no usable article text
    StorageError                      the database
    ├── DatabaseUnavailable (Transient)
    └── DatabaseRefused (Permanent)   a bad URL, a file that is not a database
        └── DatabaseCorrupt           the SQLite file is damaged: restore a backup
    DeliveryError                     handing the digest to SMTP
    ├── DeliveryFailed (Transient)    timeouts, 4xx, dropped connections
    ├── DeliveryRejected (Permanent)  5xx, bad login, bad address
    └── DeliveryInDoubt (Transient)   another run holds the claim to send
    CheckFailed (Permanent)           ``newsmon doctor`` found a problem
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class of every error newsmon raises on purpose.

    ``retry_after`` is the number of seconds after which a retry makes sense,
    when the source said so (a Retry-After header, a delivery lease); None
    otherwise.
    """

    #: Worth another attempt later; set by TransientError / PermanentError only.
    transient: bool = False

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)

    @property
    def kind(self) -> str:
        """Short machine-readable class name, stored in attempt logs."""
        return type(self).__name__


class TransientError(NewsmonError):
    """Retrying later may succeed (network hiccup, 5xx, locked database)."""

    transient = True


class PermanentError(NewsmonError):
    """Retrying cannot help until someone changes something."""

    transient = False


class ConfigError(PermanentError):
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


class UsageError(PermanentError):
    """Bad command-line input (an unknown date format, say)."""


# --- fetching -------------------------------------------------------------


class FetchError(NewsmonError):
    """Base class for anything that went wrong getting bytes over HTTP."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.status = status
        super().__init__(message, retry_after=retry_after)


class TransientFetchError(FetchError, TransientError):
    """Timeouts, resets, 5xx, 429: try again on a later pass."""


class FetchTimeout(TransientFetchError):
    """Connect, read or total time limit exceeded."""


class HostBackoff(TransientFetchError):
    """The request was not sent: its host asked (429/503 Retry-After) to wait longer.

    Not the page's fault, so it does not count as a failed attempt of the page.
    """


class HostNotFound(TransientFetchError):
    """DNS says the host does not exist. Transient at first: a machine that lost its
    resolver says the same for every host (pipeline.feeds.health limits how long)."""


class PermanentFetchError(FetchError, PermanentError):
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


class FeedParseError(PermanentError):
    """The feed body could not be read as a feed at all."""


class ExtractionError(PermanentError):
    """No usable article text could be extracted from a page."""


# --- storage and delivery --------------------------------------------------


class StorageError(NewsmonError):
    """Base class for database problems."""


class DatabaseUnavailable(StorageError, TransientError):
    """The database could not be reached; retrying later may help."""


class DatabaseRefused(StorageError, PermanentError):
    """The database URL or file is unusable as it stands (bad URL, not a database)."""


class DatabaseCorrupt(DatabaseRefused):
    """The database file is damaged (not a database, malformed pages): restore a backup.

    newsmon never writes to such a file; the message names it and points at the
    README's "Backup and restore" section.
    """


class DeliveryError(NewsmonError):
    """Base class for a digest that could not be handed to the SMTP server.

    ``reason`` is the short cause ("timeout", "535 authentication failed", ...) that
    the error line of a whole digest run repeats per recipient.
    """

    def __init__(
        self, message: str = "", *, reason: str = "", retry_after: float | None = None
    ) -> None:
        self.reason = reason or message
        super().__init__(message, retry_after=retry_after)


class DeliveryFailed(DeliveryError, TransientError):
    """Delivery failed for now (timeout, 4xx, dropped connection); a retry may succeed."""


class DeliveryRejected(DeliveryError, PermanentError):
    """The SMTP server refused the digest for good (5xx, bad login, bad address)."""


class DeliveryInDoubt(DeliveryError, TransientError):
    """Another run holds the claim to send (it may be sending, or have died mid-send).

    ``retry_after`` is the rest of its lease: after that the claim can be taken
    over, and Airflow's retry policy waits that long instead of guessing.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, reason="claimed by another run", retry_after=retry_after)


class CheckFailed(PermanentError):
    """``newsmon doctor`` (or the newsmon_doctor DAG) found at least one failing check."""
