"""Command panes' source: a command run and followed (``supabase functions logs sms-send --tail``,
``kubectl logs -f deploy/api``), its output kept as the last lines, cleaned, and its exit status.

The command comes from the configuration (``[[command_panes]]``), which is trusted: a found
``warroom.toml`` runs nothing until ``warroom trust`` (see :mod:`warroom.trust`). Its *output* is
not: it is cut and cleaned like every untrusted string, and nothing it does can freeze the console.

- It runs without a shell (an argv), stdin from ``/dev/null``, stdout and stderr on one pipe, in a
  session and process group of its own (no controlling terminal: it cannot read the keyboard or
  write to the screen), with ``NO_COLOR=1``.
- A thread of its own reads the pipe, at most :data:`BYTES_PER_SECOND` (faster output waits in the
  pipe: the command is slowed, never the console), cuts each line to :data:`LINE_MAX_BYTES`, and
  keeps the raw lines in a ring of the last ``lines``. At most :data:`PUBLISH_EVERY` seconds apart
  it cleans the lines that are new (never more than the ring holds) with
  :func:`warroom.text.clean` into the ring the pane reads (:meth:`CommandRun.read`): the cost of a
  flood is bounded by the ring, not by the flood.
- Ending it (a restart, the console quitting) ends its whole process group: SIGTERM, then SIGKILL
  after the pane's grace period; :func:`kill_everything` is the last resort (SIGKILL at once, from
  any thread, without waiting) for a process that must end now.

Nothing here imports Textual: the pane (``warroom.ui.panes.command``) reads :class:`Output`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from warroom.settings.integrations import CommandPane, command_line
from warroom.text import clean

LINE_MAX = 1000  # characters of one line shown (cut before it is cleaned)
LINE_MAX_BYTES = 4 * LINE_MAX  # bytes of one line kept (UTF-8: up to 4 a character)
BYTES_PER_SECOND = 1024 * 1024  # read from the pipe at most this fast
CHUNK = 64 * 1024  # one read
PUBLISH_EVERY = 0.2  # seconds: new lines are cleaned and shown at most this often
WAKE = 0.1  # seconds: the reader looks at the process and its stop flag at least this often
REAP_TIMEOUT = 5.0  # seconds a killed process has to be reaped (one stuck in the kernel: given up)
THROTTLE_SHOWN = 2.0  # seconds the "throttled" mark stays after the last wait
EXIT_DRAIN = 0.3  # seconds the pipe is read after the command ended before its status shows


@dataclass(frozen=True)
class Status:
    """Where the command is: ``state`` "starting", "running", "exited" (with ``text`` like "exited
    0" or "killed by SIGKILL") or "failed" (it could not start: "not found: supabase")."""

    state: str
    text: str
    pid: int | None = None
    returncode: int | None = None

    @property
    def ok(self) -> bool:
        return self.state == "running" or (self.state == "exited" and self.returncode == 0)


STARTING = Status("starting", "starting")


@dataclass(frozen=True)
class Output:
    """What a pane shows: the lines it has not seen (``fresh``) and the run's state.

    ``seq`` counts every line ever kept for this pane (restarts included); ``fresh`` are the lines
    after the ``seq`` the caller passed to :meth:`CommandRun.read`, or, when ``reset``, the whole
    ring (the caller missed lines that left it, or is new)."""

    seq: int
    fresh: tuple[str, ...]
    reset: bool
    status: Status
    run: int  # 1 for the first run, +1 for each restart
    throttled: bool
    lines_read: int  # in this run


def describe_exit(returncode: int) -> str:
    """ "exited 0", "exited 3", "killed by SIGKILL"."""
    if returncode >= 0:
        return f"exited {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"killed by {name}"


def describe_failure(exc: OSError, argv: Sequence[str], cwd: Path | None) -> str:
    """Why a command could not start, in a few words: "not found: supabase"."""
    program = argv[0]
    if cwd is not None and exc.filename is not None and str(exc.filename) == str(cwd):
        return f"folder not found: {cwd}"
    if isinstance(exc, FileNotFoundError):
        return f"not found: {program}"
    if isinstance(exc, PermissionError):
        return f"cannot run: {program} (permission denied)"
    return f"cannot run: {program} ({exc.strerror or exc})"


# Every run with a live process group, for kill_everything (a weak set: a run that is gone is gone).
_LIVE: weakref.WeakSet[CommandRun] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def kill_everything() -> None:
    """SIGKILL every command's process group at once, without waiting or reaping: for a process
    that is about to end (the lifeline's last resort). Safe from any thread and a signal handler."""
    # Never wait for the lock for long: this may run in a signal handler, between two bytecodes
    # of a thread that holds it.
    held = _LIVE_LOCK.acquire(timeout=0.2)
    try:
        runs = list(_LIVE)
    except RuntimeError:  # changed while copied (the lock was not had)
        runs = []
    finally:
        if held:
            _LIVE_LOCK.release()
    for run in runs:
        run.kill_now()


def probe(pane: CommandPane) -> tuple[bool, str]:
    """``warroom check``'s line for a command pane: whether its program can be found (and its
    folder exists). Runs nothing."""
    import shutil

    program = pane.command[0]
    where = f"command pane {pane.name!r}"
    if pane.cwd is not None and not pane.cwd.is_dir():
        return False, f"{where}: folder not found: {pane.cwd}"
    if "/" in program:
        path = (pane.cwd or Path.cwd()) / Path(program).expanduser()
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(program)
    if found is None:
        return False, f"{where}: not found: {program}"
    return True, f"{where}: {found} (runs when the console opens)"


class CommandRun:
    """One command pane's command: started, followed, restarted, ended. Thread-safe: the reader
    thread writes, the UI reads (:meth:`read`), any thread may :meth:`stop` or :meth:`restart`."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        lines: int = 1000,
        stop_grace: float = 2.0,
        env: Mapping[str, str] | None = None,
        bytes_per_second: int = BYTES_PER_SECOND,
    ) -> None:
        self.argv = tuple(argv)
        self.cwd = cwd
        self.capacity = lines
        self.stop_grace = stop_grace
        self.env = env
        self.bytes_per_second = bytes_per_second
        self._lock = threading.Lock()  # the shown ring, the counters, the status
        self._control = threading.Lock()  # one start/stop at a time
        self._shown: deque[str] = deque(maxlen=lines)
        self._seq = 0  # lines ever put in _shown
        self._status = STARTING
        self._run = 0
        self._throttled_at = 0.0
        self._lines_read = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._pgid: int | None = None
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def of(cls, pane: CommandPane) -> CommandRun:
        return cls(pane.command, cwd=pane.cwd, lines=pane.lines, stop_grace=pane.stop_grace.total_seconds())

    @property
    def command_line(self) -> str:
        return command_line(self.argv)

    @property
    def pgid(self) -> int | None:
        return self._pgid

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    # -- what the pane reads ---------------------------------------------------------------------------
    def read(self, after: int) -> Output:
        """The lines kept after line number ``after`` (see :class:`Output`), and the status."""
        with self._lock:
            new = self._seq - after
            reset = after < 0 or new > len(self._shown) or new < 0
            if reset:
                fresh = tuple(self._shown)
            elif new == 0:
                fresh = ()
            else:
                fresh = tuple(self._shown)[-new:]
            return Output(
                seq=self._seq,
                fresh=fresh,
                reset=reset,
                status=self._status,
                run=self._run,
                throttled=time.monotonic() - self._throttled_at < THROTTLE_SHOWN,
                lines_read=self._lines_read,
            )

    @property
    def status(self) -> Status:
        with self._lock:
            return self._status

    def _set_status(self, status: Status) -> None:
        with self._lock:
            self._status = status

    def _publish(self, lines: Sequence[bytes]) -> None:
        cleaned = [clean(raw, max_len=LINE_MAX) for raw in lines]
        with self._lock:
            self._shown.extend(cleaned)
            self._seq += len(cleaned)

    def _note(self, text: str) -> None:
        """A line of warroom's own between two runs (its text is warroom's, not the command's)."""
        with self._lock:
            self._shown.append(text)
            self._seq += 1

    # -- life cycle ----------------------------------------------------------------------------------------
    def start(self) -> Status:
        """Start the command (a no-op once started: :meth:`restart` runs it again). Returns its
        status: running, or failed."""
        with self._control:
            if self._proc is not None:
                return self.status
            return self._start()

    def _start(self) -> Status:
        self._stopping.clear()
        with self._lock:
            self._run += 1
            self._lines_read = 0
        env = dict(os.environ if self.env is None else self.env)
        env["NO_COLOR"] = "1"
        try:
            proc = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
                start_new_session=True,  # its own session and process group, no terminal
                close_fds=True,
            )
        except (OSError, ValueError) as exc:
            why = describe_failure(exc, self.argv, self.cwd) if isinstance(exc, OSError) else str(exc)
            status = Status("failed", clean(why, max_len=LINE_MAX))
            self._set_status(status)
            return status
        self._proc = proc
        self._pgid = proc.pid  # a session leader's group is its pid
        with _LIVE_LOCK:
            _LIVE.add(self)
        status = Status("running", f"running · pid {proc.pid}", pid=proc.pid)
        self._set_status(status)
        assert proc.stdout is not None
        self._reader = threading.Thread(
            target=self._follow, args=(proc, proc.stdout.fileno()), name="warroom-command", daemon=True
        )
        self._reader.start()
        return status

    def restart(self) -> Status:
        """End the command (its whole group, see :meth:`stop`) and start it again; the lines of
        the earlier run stay, after a line saying it restarted."""
        with self._control:
            self._stop()
            if self._run:
                self._note(f"── {self.status.text}; restarted (run {self._run + 1}) ──")
            return self._start()

    def stop(self) -> None:
        """End the command's whole process group: SIGTERM, then SIGKILL when the group has not
        ended within the grace period; then reap it. Blocks for at most the grace period (and a
        moment)."""
        with self._control:
            self._stop()

    def _stop(self) -> None:
        proc, pgid = self._proc, self._pgid
        if proc is None or pgid is None:
            return
        self._stopping.set()
        # The leader is not reaped before this (see leader_status): the group's id is still ours.
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        while time.monotonic() < deadline and not _group_gone(proc, pgid):
            time.sleep(0.05)
        deadline = time.monotonic() + REAP_TIMEOUT
        while not _group_gone(proc, pgid) and time.monotonic() < deadline:
            _signal_group(pgid, signal.SIGKILL)  # again: a member may fork while it is killed
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(REAP_TIMEOUT)  # the leader's zombie, now
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(REAP_TIMEOUT)
        with contextlib.suppress(OSError):
            if proc.stdout is not None:
                proc.stdout.close()
        if proc.returncode is not None:
            self._set_status(
                Status("exited", describe_exit(proc.returncode), pid=proc.pid, returncode=proc.returncode)
            )
        self._proc = None
        self._pgid = None
        self._reader = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def kill_now(self) -> None:
        """SIGKILL the process group now, without waiting (see :func:`kill_everything`)."""
        pgid = self._pgid
        if pgid is not None:
            _signal_group(pgid, signal.SIGKILL)

    # -- the reader thread ---------------------------------------------------------------------------------
    def _follow(self, proc: subprocess.Popen[bytes], fd: int) -> None:
        raw: deque[bytes] = deque(maxlen=self.capacity)  # lines read, not yet cleaned
        pending = 0  # of them, how many are new since the last publish
        partial = bytearray()
        skipping = False  # the rest of a line longer than LINE_MAX_BYTES
        budget = float(self.bytes_per_second)
        refilled = last_publish = exited_at = time.monotonic()
        eof = False
        exit_code: int | None = None
        while not eof and not self._stopping.is_set():
            now = time.monotonic()
            budget = min(float(self.bytes_per_second), budget + (now - refilled) * self.bytes_per_second)
            refilled = now
            if budget < 1:  # over the rate: the command waits in its pipe
                self._throttled_at = now
                time.sleep(min(WAKE, (1 - budget) / self.bytes_per_second + 0.005))
            else:
                try:
                    ready, _, _ = select.select([fd], [], [], WAKE)
                except (OSError, ValueError):
                    break
                if ready:
                    try:
                        chunk = os.read(fd, int(min(CHUNK, budget)))
                    except OSError:
                        chunk = b""
                    if not chunk:
                        eof = True
                    budget -= len(chunk)
                    lines, skipping = _split(chunk, partial, skipping)
                    raw.extend(lines)
                    pending += len(lines)
                    with self._lock:
                        self._lines_read += len(lines)
            if eof and partial:
                raw.append(bytes(partial))
                pending += 1
                partial.clear()
            # The leader ended: what it left in the pipe is read first (its status comes at the
            # end of the pipe, or EXIT_DRAIN later when a child of its keeps the pipe open).
            now = time.monotonic()
            if not eof and exit_code is None:
                exit_code = leader_status(proc)
                exited_at = now
            announce = exit_code is not None and not eof and now - exited_at >= EXIT_DRAIN
            if pending and (eof or announce or now - last_publish >= PUBLISH_EVERY):
                self._publish(list(raw)[-min(pending, len(raw)) :])
                pending = 0
                last_publish = now
            if announce and exit_code is not None and self.status.state == "running":
                self._exited(proc, exit_code)
        if pending:
            self._publish(list(raw)[-min(pending, len(raw)) :])
        # The pipe is closed (every writer is gone); the leader's status when it ends.
        while not self._stopping.is_set():
            code = leader_status(proc)
            if code is not None:
                self._exited(proc, code)
                return
            time.sleep(WAKE)

    def _exited(self, proc: subprocess.Popen[bytes], code: int) -> None:
        if self._proc is proc:
            self._set_status(Status("exited", describe_exit(code), pid=proc.pid, returncode=code))


def _split(chunk: bytes, partial: bytearray, skipping: bool) -> tuple[list[bytes], bool]:
    """The complete lines of ``partial + chunk`` (each cut to LINE_MAX_BYTES), the rest left in
    ``partial``; ``skipping``: the rest of a line that was cut is being dropped."""
    out: list[bytes] = []
    parts = chunk.split(b"\n")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if skipping:
            if not last:
                skipping = False  # the newline that ends the long line
            continue
        room = LINE_MAX_BYTES - len(partial)
        partial += part[: max(0, room)]
        if len(part) > room:  # too long: keep what fits, drop the rest up to its newline
            out.append(bytes(partial))
            partial.clear()
            skipping = last
            continue
        if not last:
            out.append(bytes(partial))
            partial.clear()
    return out, skipping


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_members(pgid: int) -> list[int] | None:
    """The live (not zombie) processes of a process group, from ``/proc``; None without ``/proc``.

    Zombies do not count: a member killed after its parent ended is reparented to init, and an
    init that does not reap (a container's) leaves it a zombie for ever, still in its group (and
    still answering ``killpg(pgid, 0)``), though it runs nothing."""
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return None
    found = []
    for entry in entries:
        name = entry.name
        if not name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
        if len(fields) >= 3 and fields[2] == str(pgid).encode() and fields[0] not in (b"Z", b"X"):
            found.append(int(name))
    return found


def leader_status(proc: subprocess.Popen[bytes]) -> int | None:
    """The leader's exit status (as a returncode) once it ended, or None; without reaping it.

    Its zombie is kept until :meth:`CommandRun.stop` reaps it: while it exists, its pid (the
    group's id) cannot be given to another process, so signalling the group never reaches anyone
    else's, however long ago the command ended."""
    if proc.returncode is not None:
        return proc.returncode
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped meanwhile (by Popen)
        return proc.returncode
    except (AttributeError, OSError):  # no waitid here: reap it
        return proc.poll()
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _group_gone(proc: subprocess.Popen[bytes], pgid: int) -> bool:
    """Whether no process of the group is left running (zombies do not count: see
    :func:`group_members`; the leader's is reaped once the group is gone)."""
    members = group_members(pgid)
    if members is not None:
        return not members
    if proc.poll() is None:  # without /proc: the leader first (a zombie still answers killpg)
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class CommandRuns:
    """The console's command panes' commands, by pane (the order of ``[[command_panes]]``)."""

    def __init__(self, panes: Sequence[CommandPane]) -> None:
        self.panes = tuple(panes)
        self.runs = [CommandRun.of(p) for p in panes]

    def start_all(self) -> None:
        for run in self.runs:
            run.start()

    def stop_all(self) -> None:
        """End every command's group: all asked at once (SIGTERM), each waited for its grace."""
        threads = [threading.Thread(target=run.stop, daemon=True) for run in self.runs if run.pgid]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def kill_all_now(self) -> None:
        for run in self.runs:
            run.kill_now()


__all__ = [
    "BYTES_PER_SECOND",
    "LINE_MAX",
    "CommandRun",
    "CommandRuns",
    "Output",
    "Status",
    "describe_exit",
    "group_members",
    "kill_everything",
    "leader_status",
    "probe",
]
