"""Address policy for outgoing requests (the SSRF guard).

A feed is third-party input: its links may point at 169.254.169.254 (cloud
metadata), at the database on localhost or at a router's admin page. Every
URL the fetcher touches, including each redirect hop, goes through
:func:`check_url` (scheme) and :meth:`AddressPolicy.resolve` (addresses).

DNS rebinding: the addresses checked here are the ones connected to.
:class:`PinnedBackend` is an httpcore network backend that only connects to
addresses this policy handed out for a host and refuses hosts it has not
seen, so a second DNS answer between "check" and "connect" cannot redirect
the socket. The pins live as long as one Fetcher (one pass), so a pass uses
one DNS answer per host. Residual risk: none for direct connections; an HTTP
proxy is never used (``trust_env=False``) because it would resolve again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

from pipeline.config import IPNetwork
from pipeline.errors import (
    BlockedAddress,
    FetchTimeout,
    HostNotFound,
    PermanentFetchError,
    TransientFetchError,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")


def check_url(url: str) -> tuple[str, str, int]:
    """Return (scheme, ascii host, port) of an http(s) URL or raise BlockedAddress."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise PermanentFetchError(f"invalid URL: {exc}", url=url) from exc
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedAddress(f"scheme not allowed: {scheme or '(none)'}", url=url)
    if not host:
        raise PermanentFetchError("URL has no host", url=url)
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise PermanentFetchError(f"invalid host name: {host!r}", url=url) from exc
    return scheme, ascii_host.lower(), port or (443 if scheme == "https" else 80)


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public(mapped)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class AddressPolicy:
    """Resolves hosts, refuses non-public addresses unless allow-listed, remembers pins."""

    def __init__(self, allow: Iterable[IPNetwork] = (), dns_timeout: float = 10.0) -> None:
        self.allow = tuple(allow)
        self.dns_timeout = dns_timeout
        self._pins: dict[str, tuple[str, ...]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def allowed(self, ip: IPAddress) -> bool:
        """Whether ``ip`` may be connected to: allow-listed, else public."""
        if any(ip.version == net.version and ip in net for net in self.allow):
            return True
        return is_public(ip)

    def pinned(self, host: str) -> tuple[str, ...] | None:
        """The checked addresses of ``host``; None until resolve has passed it."""
        return self._pins.get(host)

    async def resolve(self, url: str) -> tuple[str, ...]:
        """Check ``url`` and return the addresses to connect to (cached per host).

        A host with any refused address is refused as a whole: a name that
        resolves to both a public and a private address is a rebinding setup.
        """
        _, host, port = check_url(url)
        if host in self._pins:
            return self._pins[host]
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host in self._pins:
                return self._pins[host]
            addrs = await self._lookup(host, port, url)
            for ip in addrs:
                if not self.allowed(ip):
                    raise BlockedAddress(f"address not allowed: {host} -> {ip}", url=url)
            pins = tuple(str(ip) for ip in addrs)
            self._pins[host] = pins
            return pins

    async def _lookup(self, host: str, port: int, url: str) -> list[IPAddress]:
        literal = host[1:-1] if host.startswith("[") else host
        try:
            return [ipaddress.ip_address(literal)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.dns_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise FetchTimeout(f"DNS lookup timed out: {host}", url=url) from exc
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
                raise HostNotFound(f"host not found: {host}", url=url) from exc
            raise TransientFetchError(f"DNS lookup failed: {host}: {exc}", url=url) from exc
        seen: list[IPAddress] = []
        for _family, _type, _proto, _canon, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in seen:
                seen.append(ip)
        if not seen:
            raise PermanentFetchError(f"host has no address: {host}", url=url)
        return seen


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses :class:`AddressPolicy` checked for a host."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first pinned address of ``host`` that answers; refuse unchecked hosts."""
        addrs = self._policy.pinned(host.lower())
        if not addrs:
            # Only reachable if a caller bypassed Fetcher's policy check.
            raise httpcore.ConnectError(f"refusing unchecked host {host}")
        last: Exception | None = None
        for ip in addrs:
            try:
                return await self._inner.connect_tcp(
                    ip, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: a fetch never goes over a Unix socket."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Sleep on the wrapped AnyIO backend."""
        await self._inner.sleep(seconds)
