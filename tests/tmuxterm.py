"""The real console in a real terminal: a private tmux server per test.

Each :class:`Tmux` runs its own server (``tmux -L <unique socket> -f /dev/null``), so tests never
see the user's tmux or each other's, with ``set-clipboard on``: what the program sends as OSC 52
lands in tmux's paste buffers (:meth:`Tmux.buffers`), and what it sends as OSC 0/2 becomes the
pane title (:meth:`Tmux.title`). :meth:`Tmux.screen` is what a person would read.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")

needs_tmux = pytest.mark.skipif(TMUX is None or sys.platform != "linux", reason="needs tmux on Linux")


class Tmux:
    def __init__(self, folder: Path, *, width: int = 160, height: int = 48) -> None:
        assert TMUX is not None
        self.socket = f"wr-{uuid.uuid4().hex[:10]}"
        self.width = width
        self.height = height
        # Set before the program starts (set later, the first OSC 52 could be missed).
        self.config = folder / f"{self.socket}.conf"
        self.config.write_text(
            f"set -s set-clipboard on\nset -g remain-on-exit on\nset -g default-size {width}x{height}\n"
        )

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        under_shell: bool = False,
        linger: bool = False,
    ) -> None:
        """Start ``argv`` in a new session: the pane's only process, or (``under_shell``) the child
        of a shell that stays the session leader, as when a person types the command.

        ``linger`` is for a command that prints and exits at once: a shell waits a second after it
        (keeping its exit status), so tmux reads the last output before the pane's terminal closes
        (without it, what a fast exit printed was sometimes lost, and the pane showed nothing)."""
        environ = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        program = f"env -i {environ} " + " ".join(shlex.quote(a) for a in argv)
        if linger:
            command = f"cd {shlex.quote(str(cwd))} && {{ {program}; code=$?; sleep 1; exit $code; }}"
        else:
            command = f"cd {shlex.quote(str(cwd))} && exec {program}"
        if under_shell:
            # An interactive shell (job control: the program is the terminal's foreground job),
            # the command typed into it.
            self.tmux(
                "new-session",
                "-d",
                "-s",
                "w",
                "-x",
                str(self.width),
                "-y",
                str(self.height),
                "env",
                "-i",
                f"PATH={env.get('PATH', '/usr/bin:/bin')}",
                "TERM=screen",
                "bash",
                "--norc",
                "--noprofile",
            )
            self.send(f"cd {shlex.quote(str(cwd))} && {program}", "Enter")
            return
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            "sh",
            "-c",
            command,
        )

    def pid(self) -> int:
        return int(self.tmux("display", "-p", "-t", "w", "#{pane_pid}").strip())

    def program_pid(self, name: str = "warroom", timeout: float = 10.0) -> int:
        """The pid of the process under the pane whose command line has ``name`` (the pane's own
        process, or a child of its shell)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            todo = [self.pid()]
            while todo:
                pid = todo.pop()
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                except OSError:
                    continue
                if name.encode() in cmdline and b"sh -c" not in cmdline:
                    return pid
                todo += [int(c) for c in children]
            time.sleep(0.05)
        raise AssertionError(f"no {name} process under the pane")

    def server_pid(self) -> int:
        return int(self.tmux("display", "-p", "#{pid}").strip())

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "w")

    def transcript(self) -> str:
        """Everything the pane printed, scrolled-off lines included, wrapped lines joined."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "w")

    def title(self) -> str:
        return self.tmux("display", "-p", "-t", "w", "#{pane_title}").strip()

    def buffers(self) -> list[str]:
        """The paste buffers (what OSC 52 copied), newest first."""
        names = self.tmux("list-buffers", "-F", "#{buffer_name}", check=False).split()
        return [self.tmux("show-buffer", "-b", name, check=False) for name in names]

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "w", *keys)

    def dead(self) -> bool:
        out = self.tmux("display", "-p", "-t", "w", "#{pane_dead}", check=False).strip()
        return out == "1"

    def wait_for(self, check: Callable[[str], bool], timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out; the screen:\n{screen}")

    def wait_text(self, text: str, timeout: float = 20.0) -> str:
        return self.wait_for(lambda s: text in s, timeout)

    def kill_server(self) -> None:
        self.tmux("kill-server", check=False)


def warroom_env(state_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    """An environment for a console under test: its own state dir, home and config dir."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "WARROOM_STATE_DIR": str(state_dir),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def console_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "warroom", *args]


def process_gone(pid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False
