"""Webhook endpoint policy: optionally refuse endpoints that resolve to internal addresses."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from gateway.errors import FeatureNotAllowed


async def resolves_to_private_network(endpoint: str) -> bool:
    """True when the endpoint's host is, or resolves to, a loopback, private, link-local or
    otherwise non-public address (or does not resolve at all)."""
    host = urlsplit(endpoint).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return True  # unresolvable: nothing public to send to
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            return True
    return False


class EndpointPolicy:
    """`[webhooks] deny_private_networks`: off for self-hosted use, on for shared gateways."""

    def __init__(self, deny_private_networks: bool) -> None:
        self.deny_private_networks = deny_private_networks

    async def allowed(self, endpoint: str) -> bool:
        return not (self.deny_private_networks and await resolves_to_private_network(endpoint))

    async def check(self, endpoint: str, prop: str) -> None:
        """Refuse a webhook given in a call when the policy denies its endpoint."""
        if not await self.allowed(endpoint):
            raise FeatureNotAllowed(prop, "endpoints on private networks are not allowed here")
