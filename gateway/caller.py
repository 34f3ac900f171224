"""Who is calling: the bearer token and the client address, as the transport carries them."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from proto.errors import Invalid
from services.kernel.auth import bearer

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """`settings.trusted_proxies` ("10.0.0.2, 10.1.0.0/16") as networks; read per request, parsed once."""
    networks = []
    for part in spec.split(","):
        if part := part.strip():
            networks.append(ipaddress.ip_network(part, strict=False))
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: str) -> str | None:
    """The end user's address: the direct peer, unless that is a proxy we trust.

    X-Forwarded-For is whatever the client wrote plus what each proxy appended, so only the
    right end is believable: walk it from the right past our own proxies and take the first
    address they did not add. Anything else would let a client pick the address that
    identity's per-IP rate limits count.
    """
    trusted = trusted_networks(trusted_proxies)
    if peer is None or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        if _ip(hop) is None:
            break  # garbage a client wrote: stop at the last address a proxy vouched for
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address


def token_from_connection_params(params: Mapping[str, object] | None) -> str | None:
    """The access token a WebSocket client sent in `connection_init`.

    `{"authorization": "Bearer <token>"}` (what GraphQL clients send for HTTP too) or
    `{"token": "<token>"}`. A value of the wrong shape is an error, not anonymity: a client
    that meant to sign in should hear that it did not.
    """
    if not params:
        return None
    header = params.get("authorization", params.get("Authorization"))
    if header is not None:
        if not isinstance(header, str) or (token := bearer(header)) is None:
            raise Invalid("authorization must be \"Bearer <access token>\"", "authorization")
        return token
    raw = params.get("token")
    if raw is not None:
        if not isinstance(raw, str) or not raw.strip():
            raise Invalid("token must be the access token as a string", "token")
        return raw.strip()
    return None
