"""``warroom serve``: the console, read-only, in a browser (textual-serve).

textual-serve runs one command per browser session (``python -m warroom serve
--read-only-internal --incident ID`` plus the non-secret options the server was given: no DSN,
no token on any command line) and relays its screen over a websocket. This module is the web
server around it:

- bound to 127.0.0.1 unless told otherwise; there, requests must name a loopback host (a page
  on another site cannot reach it by DNS rebinding);
- bound anywhere else, a random token is in the URL (printed once) and every request must carry
  it, in the query or in the cookie the first page sets; without it: 403;
- the websocket is refused to pages of another origin (no cross-site websocket hijacking);
- no request is logged (the URL holds the token), no download route, no file is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

COOKIE = "warroom_view"
LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}
SESSION_FLAG = "--read-only-internal"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """127.0.0.1, ::1, localhost: only this machine can connect."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def session_command(args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each browser session."""
    return shlex.join([sys.executable, "-m", "warroom", "serve", SESSION_FLAG, *args])


def public_host(host: str) -> str:
    """The host to print in the URL: the machine's name when bound to every address."""
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


class ViewServer(Server):
    """textual-serve's server with a guard in front (loopback host, token, same origin), no
    downloads and no request log."""

    def __init__(self, command: str, *, host: str, title: str, token: str | None) -> None:
        super().__init__(command, host=host, port=0, title=title)
        self.token = token

    # -- the guard ----------------------------------------------------------------------------------
    def _token_ok(self, given: str | None) -> bool:
        return self.token is None or (
            given is not None and hmac.compare_digest(given.encode(), self.token.encode())
        )

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None and not is_loopback(request.url.host or ""):
            return web.Response(status=403, text="warroom: this view answers on localhost only\n")
        from_query = request.query.get("token")
        if not (self._token_ok(from_query) or self._token_ok(request.cookies.get(COOKIE))):
            return web.Response(
                status=403, text="warroom: this read-only view needs its link with the token\n"
            )
        if request.path == "/ws":
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.host:
                return web.Response(status=403, text="warroom: websocket from another origin refused\n")
        response = await handler(request)
        if self.token is not None and self._token_ok(from_query) and isinstance(response, web.Response):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
        return response

    # -- the routes ---------------------------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        return app

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        """textual-serve's page, its URLs taken from the request (the address the browser used,
        whatever the server is bound to)."""
        base = f"{request.scheme}://{request.host}"
        ws = ("wss" if request.scheme == "https" else "ws") + base[base.index(":") :]
        try:
            font_size = max(6, min(int(request.query.get("fontsize", "16")), 64))
        except ValueError:
            font_size = 16
        context: dict[str, Any] = {
            "font_size": font_size,
            "app_websocket_url": f"{ws}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    # -- running ----------------------------------------------------------------------------------
    def run(self, sock: socket.socket) -> None:
        """Serve on ``sock`` until SIGINT or SIGTERM."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.request_exit)
        try:
            web.run_app(
                self._make_app(),
                sock=sock,
                handle_signals=False,
                loop=loop,
                print=lambda *_: None,
                access_log=None,  # a request line holds the token
            )
        finally:
            loop.close()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (``port`` 0: any free port); OSError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if host in ("", "0.0.0.0"):
        return socket.create_server(("", port), family=socket.AF_INET)
    infos = socket.getaddrinfo(host, port, family=0, type=socket.SOCK_STREAM)
    family, _, _, _, address = infos[0] if infos else (family, 0, 0, "", (host, port))
    return socket.create_server(address[:2], family=family)


def serve(*, args: Sequence[str], host: str, port: int, title: str, announce: Callable[[str], None]) -> None:
    """Run the server; ``announce`` gets the URL once (with its token when one is needed)."""
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    server = ViewServer(session_command(args), host=host, title=title, token=token)
    url = f"http://{public_host(host)}:{bound}/" + (f"?token={token}" if token else "")
    announce(url)
    server.run(sock)
