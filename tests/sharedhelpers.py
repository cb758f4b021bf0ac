"""For the shared war room tests: console processes (tests/sharedconsole.py) and a TCP relay
on 127.0.0.1 that can cut one console off from the shared database and let it back."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import warroom

DRIVER = Path(__file__).with_name("sharedconsole.py")


class ConsoleProcess:
    """One headless console in its own process, with its own journal."""

    def __init__(self, state_dir: Path, dsn: str, actor: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(Path(warroom.__file__).resolve().parents[1])
        self.actor = actor
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(state_dir), dsn, actor],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.arrivals: dict[str, float] = {}  # event id -> when it arrived here (wall clock)
        self.statuses: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.expect("ready", timeout=30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            if "arrived" in msg:
                for i in msg["arrived"]:
                    self.arrivals.setdefault(i, msg["t"])
            elif "status" in msg:
                self.statuses.append(msg["status"])
            elif "error" in msg:
                self.errors.append(msg["error"])
                self.lines.put(msg)
            else:
                self.lines.put(msg)

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def expect(self, key: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.actor}: no {key!r} within {timeout} s; errors {self.errors}")
            try:
                msg = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if "error" in msg:
                raise AssertionError(f"{self.actor}: {msg['error']}")
            if key in msg:
                return msg

    def ask(self, key: str, timeout: float = 30, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.expect(key, timeout)

    def do(self, kind: str, **fields: Any) -> tuple[str, float]:
        """One event written here: its id and when (wall clock)."""
        self.send(op="do", kind=kind, **fields)
        wrote = self.expect("wrote")
        self.expect("done")
        return wrote["wrote"], wrote["t"]

    def dump(self) -> dict[str, Any]:
        return self.ask("events", op="dump")

    def status(self) -> dict[str, Any]:
        return self.ask("room", op="status")["room"]

    def wait_for(self, what: Callable[[], bool], timeout: float, why: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.actor}: {why} not within {timeout} s")
            time.sleep(0.02)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.ask("bye", timeout=15, op="quit")
            except (AssertionError, OSError):
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Relay:
    """A TCP relay to the shared database: ``cut()`` drops every connection and refuses new
    ones (the network is gone), ``restore()`` accepts again on the same port."""

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{self.port}"
        self.dsn = urlunsplit(parts._replace(netloc=netloc))
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._socks |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.cut()
