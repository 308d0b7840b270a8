"""Which webhook URLs may be called: the server-side request forgery (SSRF) check.

A webhook makes our workers send a request to a URL a tenant chose. Without
this check a tenant could point it at our own network (the database, a cloud
metadata service at 169.254.169.254, an admin port on localhost). So: http or
https only, and every address the host resolves to must be a public one.

The check runs when a subscription is saved and again before every try (DNS
can change between the two; a name can be re-pointed at 127.0.0.1 after
passing the first check). The try then connects to an address this check
returned, never resolving the name a second time, so the answer cannot change
between the check and the connection.

``SSI_WEBHOOK_ALLOW_PRIVATE`` turns the address check off (tests, development
against a receiver on localhost); the scheme check stays.

A refused URL is told apart from an allowed one and nothing more: what the host
resolves to, or that it does not resolve, would map our internal DNS for whoever
asks; the reason is logged for the operator instead. The lookup is bounded by
``SSI_WEBHOOK_DNS_TIMEOUT_SECONDS``: a slow resolver must not hold a request.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimedOut
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import ValidationFailed

logger = logging.getLogger(__name__)

SCHEMES = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 (RFC 6052): an IPv4 address in the last 32 bits, reached through a gateway.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


NOT_ALLOWED = "This URL is not allowed: webhooks are sent to http(s) URLs on public addresses."
# Lookups run here, bounded in time; a lookup that hangs keeps its thread until the resolver
# gives up, and the few threads bound how many can hang at once.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


class UrlNotAllowed(ValidationFailed):
    """A URL we will not call: 400 ``url_not_allowed`` on ``url``."""

    code = "url_not_allowed"

    def __init__(self, detail: str = NOT_ALLOWED) -> None:
        super().__init__(detail, attr="url")


@dataclass(frozen=True)
class Target:
    """Where a webhook request goes: the checked addresses, and what to say in the request."""

    scheme: str
    host: str  # as in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query, what goes on the request line
    addresses: tuple[str, ...]  # resolved and allowed, in resolver order


def address_refused(ip: IPAddress) -> bool:
    """True for anything but a public unicast address, including IPv4 hidden in IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64:
            return address_refused(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None and address_refused(embedded):
            return True
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def url_parse(url: str) -> Target:
    """The parts of an http(s) URL, unresolved (``addresses`` empty). Refuses anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(f"Not a valid URL ({exc}).", code="invalid", attr="url") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlNotAllowed(f"Only http and https URLs are allowed, not {scheme or 'none'!r}.")
    if port == 0:
        raise ValidationFailed("Port 0 is not a port a request can go to.", code="invalid", attr="url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationFailed("The URL has no host.", code="invalid", attr="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed(
            "Credentials in the URL are not supported; verify requests by their signature.",
            code="invalid",
            attr="url",
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], path=path, addresses=())


def _lookup(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to, in resolver order; a name that does not resolve in
    ``SSI_WEBHOOK_DNS_TIMEOUT_SECONDS`` is refused."""
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=float(settings.SSI_WEBHOOK_DNS_TIMEOUT_SECONDS))
    except LookupTimedOut as exc:
        logger.info("webhook URL refused: the lookup of %s timed out", host)
        raise UrlNotAllowed() from exc
    except (OSError, UnicodeError) as exc:
        logger.info("webhook URL refused: %s does not resolve (%s)", host, exc)
        raise UrlNotAllowed() from exc
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is cut off before parsing.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def url_resolve(url: str, *, allow_private: bool) -> Target:
    """Parse ``url`` and resolve its host; refuse it if any address is not public.

    Any, not all: a name resolving to one public and one private address
    would otherwise reach the private one on some tries.
    """
    target = url_parse(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _lookup(target.host, target.port)
    if not allow_private:
        for ip in addresses:
            if address_refused(ip):
                logger.info("webhook URL refused: %s resolves to %s, not a public address", target.host, ip)
                raise UrlNotAllowed()
    return Target(
        scheme=target.scheme,
        host=target.host,
        port=target.port,
        path=target.path,
        addresses=tuple(str(ip) for ip in addresses),
    )
