"""URL normalisation: one spelling per resource, so duplicates meet before any fetch.

Conservative on purpose: only changes that cannot alter what the server
returns (case of scheme/host, default port, fragment, dot segments,
percent-encoding case) plus removal of click-tracking parameters, which news
sites ignore when serving the page. Path case, trailing slashes and the
order of meaningful query parameters are kept because servers do treat
them differently.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

#: Exact names of tracking parameters (lower case).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "ttclid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_conv",
        "vero_id",
        "wt_mc",
        "wt.mc_id",
        "wt_zmc",
        "ocid",
        "cmpid",
        "cmp",
        "ncid",
        "ito",
        "xtor",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "sara_ecid",
        "sara_ref",
        "ref_src",
        "ref_url",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "smid",
        "sr_share",
        "s_cid",
        "wprov",
    }
)
#: Prefixes of tracking parameter families.
TRACKING_PREFIXES = ("utm_", "pk_", "piwik_", "mtm_", "matomo_", "stm_", "at_", "hmb_", "__twitter")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = "-._~"
_PCT = re.compile(r"%[0-9a-fA-F]{2}")


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks the visit (utm_*, fbclid, ...) and can be dropped."""
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


def _normalize_path(path: str) -> str:
    # Resolve dot segments the way RFC 3986 5.2.4 does (urljoin does it for us).
    if "/." in path or path.startswith("."):
        path = urlsplit(urljoin("http://x/", path)).path

    # Upper-case percent escapes and decode escaped unreserved characters.
    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(0)[1:], 16))
        if ch.isascii() and (ch.isalnum() or ch in _UNRESERVED):
            return ch
        return m.group(0).upper()

    path = _PCT.sub(fix, path)
    # Encode what must not appear raw (spaces, non-ASCII) but keep existing escapes.
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


def _normalize_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking_param(k)]
    if len(kept) == len(pairs) and "+" not in query and " " not in query:
        return query  # untouched: keep the server's exact spelling
    return urlencode(kept, doseq=False)


def normalize_url(url: str, base: str | None = None) -> str:
    """Normalise ``url`` (resolved against ``base`` when relative).

    Lower-cases scheme and host, converts an IDN host to punycode, drops the
    default port, the fragment, an empty query and tracking parameters
    (utm_*, fbclid, gclid, mc_cid, ...), resolves dot segments and
    percent-encoding case. Non-http(s) URLs are only stripped and resolved.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = host.rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if parts.username is not None:
        cred = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{cred}@{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = _normalize_path(parts.path) or "/"
    query = _normalize_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """Lower-case host of ``url`` ('' when there is none), for grouping and display."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


__all__ = ["TRACKING_PARAMS", "host_of", "is_tracking_param", "normalize_url"]
