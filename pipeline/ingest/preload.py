"""What the CPU pool's fork server loads once, so that no worker pays for it.

Imported by the fork server only (pipeline.ingest.pool). Besides the modules,
the extractor loads a good deal at its first page: the language model (read
and decompressed, about a third of a second), jusText's stop lists, htmldate's
date parser (dateparser). One extraction of a small built-in page here does
all of that once; forked workers then share those pages with the server.

htmldate's fallback parser (dateparser, in the beat's languages:
pipeline.pages.date_parser) loads and compiles each locale's data the first
time a string is tried against it. Every worker used to pay that on its own at
some page of every pass (with all 205 locales: 1.6 s of CPU and 40 MB, in a
300-page pass with two workers about 10 ms a page). The warm-up below pays it
here once, before the workers fork.
"""

import contextlib
import pickle
import sys
from types import TracebackType

import dateparser  # noqa: F401  (htmldate imports it at its first text search, in every worker)

from pipeline.errors import ExtractionError
from pipeline.ingest import work  # the workers' code, imported once here
from pipeline.pages import date_parser
from pipeline.pages.extract import extract_article
from pipeline.pages.language import load_model

#: Short (so the selection tries every candidate) and dateless (so the date
#: search goes all the way to htmldate's text search).
_SAMPLE = (
    b"<html><head><title>Warm-up</title></head><body><article><p>"
    + b"The extractor reads this sentence before the first real page. " * 8
    + b"</p></article></body></html>"
)


def _quiet_when_orphaned(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    # A worker being forked reads its start data from the ingest process; if that
    # process is killed meanwhile (SIGKILL, a timeout), the data arrive truncated.
    # That is the kill's doing, not a bug: one line instead of a traceback.
    if issubclass(kind, EOFError | pickle.UnpicklingError):
        print(
            f"newsmon worker: the ingest process went away while it started ({exc})",
            file=sys.stderr,
        )
        return
    sys.__excepthook__(kind, exc, tb)


# the fork server reports a failed worker start through sys.excepthook
sys.excepthook = _quiet_when_orphaned
work.bound_heap()  # the workers fork from here with it already set
load_model()
with contextlib.suppress(ExtractionError):  # the warm-up is done either way
    extract_article(_SAMPLE, "https://example.org/warm-up")
# a string no locale reads, so that every locale of the beat is loaded (the sample page's
# text never reaches the fallback parser)
date_parser.parser().get_date_data("newsmon warm-up 0")
