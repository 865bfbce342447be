"""A cap on the connections that one client address holds open at once."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

# Written before any request is read: a client that sends nothing still learns why.
_REFUSAL_BODY = b"too many open connections from this address\n"
_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(_REFUSAL_BODY)).encode() + b"\r\n\r\n" + _REFUSAL_BODY
)


def _client_address(transport: asyncio.Transport) -> str | None:
    peer = transport.get_extra_info("peername")
    # (host, port) for IPv4, (host, port, flow, scope) for IPv6; a Unix socket has no address.
    return peer[0] if isinstance(peer, tuple) and peer else None


class ConnectionCap:
    """Counts open connections by client address and closes, at once, one that would go over
    `max_per_address` (0: no cap), before a byte of it is read: it never reaches a middleware
    or a handler.

    It hooks the application's aiohttp Server, the protocol factory that every runner (the
    AppRunner of `serve`, the tests' TestServer, run_app) builds through the application: each
    connection's RequestHandler reports its opening and its end there (connection_made,
    connection_lost). A middleware would see requests, not connections, and so would never
    count the idle sockets that a greedy client holds.
    """

    def __init__(
        self,
        max_per_address: int,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.max_per_address = max_per_address
        self._on_refused = on_refused
        self._open: Counter[str] = Counter()
        self._address_of: dict[RequestHandler, str] = {}

    @property
    def open_connections(self) -> int:
        return len(self._address_of)

    def install(self, app: web.Application) -> None:
        """Cap every Server that runners build for `app` from now on."""
        make_handler = app._make_handler

        def make_capped_handler(**kwargs: Any) -> web.Server:
            server = make_handler(**kwargs)
            self._attach(server)
            return server

        # Set past Application.__setattr__, which warns about any attribute in asyncio debug
        # mode; aiohttp has no public hook for this (subclassing Application is deprecated).
        object.__setattr__(app, "_make_handler", make_capped_handler)

    def _attach(self, server: web.Server) -> None:
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            if not self._admit(handler, transport):
                transport.pause_reading()
                transport.write(_REFUSAL)
                # Closed on the next turn of the loop: the handler's task, started after this
                # returns, expects connection_lost to come after it has begun.
                asyncio.get_running_loop().call_soon(transport.close)

        def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
            address = self._address_of.pop(handler, None)
            if address is not None:
                self._open[address] -= 1
                if not self._open[address]:
                    del self._open[address]
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def _admit(self, handler: RequestHandler, transport: asyncio.Transport) -> bool:
        address = _client_address(transport)
        if address is None:
            return True
        if self.max_per_address and self._open[address] >= self.max_per_address:
            if self._on_refused is not None:
                self._on_refused()
            return False
        self._open[address] += 1
        self._address_of[handler] = address
        return True
