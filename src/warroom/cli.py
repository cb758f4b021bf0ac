"""The ``warroom`` command: the console (default), declare, list, check, report, demo.

Errors a user can cause (bad arguments, bad configuration, an unusable journal) print one line
on stderr and exit with status 2 (usage, configuration) or 1 (everything else); no tracebacks.
Heavy modules (Textual, asyncpg, GitPython, httpx, Jinja2) are imported only by the commands that
need them, so ``warroom --help`` and ``warroom declare`` stay fast.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from warroom import __version__
from warroom.config import ConfigError, load_settings
from warroom.durations import utc_now
from warroom.incident.journal import RECOVER_COMMAND, Journal, JournalError, Problem
from warroom.settings import Settings
from warroom.text import counted, dsn_password

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = ("P0", "P1", "P2", "P3")


def _severity(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in SEVERITIES:
        raise click.BadParameter(f"{value!r} is not one of P0, P1, P2, P3", ctx, param)
    return upper


def fail(message: str, status: int = 1) -> NoReturn:
    from warroom.text import clean

    # Messages quote what the user gave (arguments, paths, file contents): never raw.
    click.echo(f"warroom: {clean(message, max_len=1000)}", err=True)
    sys.exit(status)


def say(message: str) -> None:
    """One line on stderr, cleaned (a notice, not an error)."""
    from warroom.text import clean

    click.echo(f"warroom: {clean(message, max_len=1000)}", err=True)


class WarroomGroup(click.Group):
    """Runs commands without Click's multi-line usage errors: one line, exit status 2."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        try:
            rv = super().main(args=args, prog_name=prog_name or "warroom", standalone_mode=False, **extra)
        except click.UsageError as exc:
            path = exc.ctx.command_path.split(" ", 1) if exc.ctx else []
            where = f"{path[1]}: " if len(path) > 1 else ""
            fail(f"{where}{exc.format_message()}".replace("\n", " "), 2)
        except click.ClickException as exc:
            fail(exc.format_message().replace("\n", " "), exc.exit_code or 1)
        except click.exceptions.Abort:
            fail("aborted", 130)
        except ConfigError as exc:
            fail(str(exc), 2)
        except JournalError as exc:
            fail(str(exc), 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


def common_options(f: F) -> F:
    """Options every command accepts, before or after the command name."""
    opts = [
        click.option(
            "--config",
            "config",
            type=click.Path(path_type=Path, dir_okay=False),
            help="warroom.toml to read (default: ./warroom.toml, then the user config dir).",
        ),
        click.option(
            "--state-dir",
            "state_dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Where the journal and outbox live (env WARROOM_STATE_DIR).",
        ),
        click.option(
            "--dsn", "dsn", metavar="DSN", help="PostgreSQL to watch (env WARROOM_DSN, then DATABASE_URL)."
        ),
        click.option(
            "--repo",
            "repo",
            type=click.Path(path_type=Path, file_okay=False),
            help="Git repository whose recent commits to show.",
        ),
        click.option("--theme", "theme", metavar="NAME", help="dark, light or high-contrast."),
        click.option(
            "--user", "user", metavar="NAME", help="Your name in the journal (default: login name)."
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def settings_from(ctx: click.Context, **flags: Any) -> Settings:
    """Merge the group's and the command's common options (the command's win) into Settings."""
    merged: dict[str, Any] = dict(ctx.obj or {}) if isinstance(ctx.obj, dict) else {}
    for key, value in flags.items():
        if value is not None:
            merged[key] = value
    if merged.get("dsn") and dsn_password(merged["dsn"]):
        say(
            "the password given with --dsn is visible to every user of this machine (ps) while "
            "warroom runs: prefer WARROOM_DSN, a ~/.pgpass file, or [database] dsn in a private file"
        )
    return load_settings(
        config=merged.get("config"),
        state_dir=merged.get("state_dir"),
        dsn=merged.get("dsn"),
        repo=merged.get("repo"),
        theme=merged.get("theme"),
        user=merged.get("user"),
    )


def tell_problems(problems: Sequence[Problem]) -> None:
    """Incidents that cannot be opened (damaged events), on stderr, with the way out."""
    for problem in problems:
        say(problem.line)
    if problems:
        say(f"run `{RECOVER_COMMAND}` to set the damaged events aside (nothing is deleted)")


def open_journal(settings: Settings) -> Journal:
    journal = Journal(settings.journal_path, actor=settings.user)
    for notice in journal.notices:
        say(notice)
    return journal


DEMO_FOLDER = "demo"  # warroom.demo.session.DEMO_DIR (not imported here: it loads the demo's machinery)


def demo_settings(settings: Settings) -> Settings | None:
    """The settings that read the demo's own journal (``warroom demo`` keeps its incidents apart, in
    the state dir's demo folder), or None when there is no demo journal."""
    from dataclasses import replace

    demo_dir = Path(settings.state_dir).expanduser() / DEMO_FOLDER
    if not (demo_dir / settings.journal_path.name).is_file():
        return None
    repo = demo_dir / "repo"
    git = replace(settings.git, repo=repo) if repo.is_dir() else settings.git
    return replace(settings, state_dir=demo_dir, git=git)


def demo_ids(demo: Settings | None) -> list[str]:
    """The demo journal's incident ids, oldest first ([] when there is none or it cannot be read)."""
    if demo is None:
        return []
    try:
        with Journal(demo.journal_path, actor=demo.user) as journal:
            return journal.incident_ids()
    except JournalError:
        return []


def demo_pointer(demo: Settings, ids: Sequence[str], command: str) -> str:
    """``the demo's 2 incidents (INC-...-001 to INC-...-002) are in its own journal: warroom list
    --state-dir ~/.local/state/warroom/demo``."""
    span = ids[0] if len(ids) == 1 else f"{ids[0]} to {ids[-1]}"
    count = "incident" if len(ids) == 1 else f"{len(ids)} incidents"
    verb = "is" if len(ids) == 1 else "are"
    where = f"warroom {command} --state-dir {demo.state_dir}"
    return f"the demo's {count} ({span}) {verb} in its own journal: {where}"


@click.group(
    cls=WarroomGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="warroom", message="%(prog)s %(version)s")
@common_options
@click.option("--incident", "incident", metavar="ID", help="Open this incident (INC-YYYY-MM-DD-###).")
@click.pass_context
def main(ctx: click.Context, incident: str | None, **flags: Any) -> None:
    """warroom: the console for the war room of a production incident.

    Run without a command to open the console on the open incident (or to declare one).
    """
    ctx.obj = {k: v for k, v in flags.items() if v is not None}
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx)
    with open_journal(settings) as journal:
        if incident is not None and not journal.exists(incident):
            fail(f"no incident {incident} in {settings.journal_path}", 2)
    from warroom.ui.app import run_console

    sys.exit(run_console(settings, incident_id=incident))


@main.command()
@common_options
@click.option(
    "--severity",
    "-s",
    required=True,
    callback=_severity,
    metavar="P0|P1|P2|P3",
    help="P0 (critical) to P3 (low).",
)
@click.option("--title", "-t", required=True, help="What is broken, in a few words.")
@click.option("--impact", default="", help="Who or what is affected.")
@click.option("--lead", default="", help="The incident lead (default: nobody yet).")
@click.pass_context
def declare(ctx: click.Context, severity: str, title: str, impact: str, lead: str, **flags: Any) -> None:
    """Record a new incident and print its id alone on stdout (for alert hooks)."""
    from warroom.text import clean

    title = clean(title, max_len=200)
    if not title:
        fail("declare: --title must not be empty", 2)
    settings = settings_from(ctx, **flags)
    fields = {
        "impact": clean(impact, max_len=500),
        "lead": clean(lead, max_len=100),
        "playbook": settings.playbook,
    }
    with open_journal(settings) as journal:
        if settings.shared.configured:
            import asyncio

            from warroom.shared.room import declare_shared

            timeout = settings.shared.connect_timeout.total_seconds()
            event, alone = asyncio.run(
                declare_shared(journal, settings.shared.dsn, timeout, severity, title, **fields)
            )
            if alone:
                say(f"{event.incident_id} {alone}")
        else:
            event = journal.declare(severity, title, **fields)
    click.echo(event.incident_id)


@main.command(name="list")
@common_options
@click.option("--open", "only_open", is_flag=True, help="Only incidents that are still open.")
@click.pass_context
def list_(ctx: click.Context, only_open: bool, **flags: Any) -> None:
    """Show incidents: id, severity, status, start (local time) and duration."""
    from warroom.durations import format_duration, stamp
    from warroom.text import clean

    settings = settings_from(ctx, **flags)
    with open_journal(settings) as journal:
        listing = journal.incidents(settings.playbook)
    tell_problems(listing.problems)
    incidents = [i for i in listing if i.is_open] if only_open else list(listing)
    demo = demo_settings(settings)
    ids = demo_ids(demo)
    if not incidents:
        click.echo("no incidents" + (" open" if only_open else "") + f" in {settings.journal_path}")
        if demo is not None and ids:
            say(demo_pointer(demo, ids, "list"))
        return
    now = utc_now()
    rows = [("ID", "SEV", "STATUS", "STARTED", "DURATION", "TITLE")]
    for inc in reversed(incidents):
        rows.append(
            (
                inc.id,
                inc.severity,
                inc.status_text,
                stamp(inc.declared_at, settings.tz),
                format_duration(inc.elapsed(now)),
                clean(inc.title, max_len=200),  # a journal is a file: its text is not trusted
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        cells = [
            c.rjust(w) if i == 4 else c.ljust(w) for i, (c, w) in enumerate(zip(r[:5], widths, strict=True))
        ]
        click.echo("  ".join(cells) + "  " + r[5])
    if demo is not None and ids:
        say(demo_pointer(demo, ids, "list"))


@main.command()
@common_options
@click.pass_context
def check(ctx: click.Context, **flags: Any) -> None:
    """Print the effective configuration (secrets masked) and probe the sources. Exits 1 when
    the database is unreachable, a query fails, an integration does not answer as it should, or the
    journal cannot be read or written."""

    from warroom.text import clean

    settings = settings_from(ctx, **flags)

    def show(line: str) -> None:  # one line, its alignment kept, nothing raw
        click.echo(clean(line, max_len=1000, multiline=True).replace("\n", " "))

    for line in settings.describe():
        show(line)
    from warroom.sources.postgres import run_probe

    click.echo("")
    probe = run_probe(settings)
    for line in probe:
        show(line)
    from warroom.reach.check import probe_integrations

    reached = probe_integrations(settings)
    from warroom.sources.command import probe as probe_command

    reached += [probe_command(pane) for pane in settings.command_panes]

    if settings.database.action_dsn:
        from warroom.sources.postgres.actions import probe_action

        reached.append(asyncio.run(probe_action(settings.database)))
    for _, line in reached:
        show(line)
    if settings.shared.configured:
        from warroom.shared.schema import probe as probe_shared

        wait = settings.shared.connect_timeout.total_seconds()
        reached.append(asyncio.run(probe_shared(settings.shared.dsn, wait)))
        show(reached[-1][1])
    click.echo("")
    with open_journal(settings) as journal:
        listing = journal.incidents(settings.playbook)
        why = journal.writable()
    damaged = len(listing.problems)
    if why:
        show(f"journal {settings.journal_path}: cannot be written ({why})")
    elif damaged:
        incidents = counted(len(listing), "incident")
        show(f"journal: {incidents}, {damaged} cannot be opened (run `{RECOVER_COMMAND}`)")
    else:
        click.echo(f"journal ok: {counted(len(listing), 'incident')}, writable")
    if probe.failed or why or damaged or not all(ok for ok, _ in reached):
        sys.exit(1)


@main.command()
@common_options
@click.argument("file", metavar="[FILE]", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.pass_context
def trust(ctx: click.Context, file: Path | None, **flags: Any) -> None:
    """Trust ./warroom.toml (or FILE) and the queries, templates and commands it names, as they are now.

    A warroom.toml found in the current folder runs its queries, templates and commands only once trusted
    (as direnv does with .envrc); any change to it or to a file it names asks again.
    """
    from warroom.config import CONFIG_FILE, named_files
    from warroom.trust import trust as record

    path = (file or Path.cwd() / CONFIG_FILE).absolute()
    if not path.is_file():
        fail(f"trust: {path}: no such file", 2)
    settings = settings_from(ctx, **{**flags, "config": path})
    named = named_files(settings)
    try:
        record(path, named)
    except OSError as exc:
        fail(f"trust: cannot record it ({exc.strerror or exc})", 1)
    also = f" and the {counted(len(named), 'file')} it names" if named else ""
    click.echo(f"trusted {path}{also}; warroom asks again if any of them changes")
    if settings.command_panes:
        from warroom.settings.integrations import command_pane_lines

        click.echo("its command panes run, in their own process group, when the console opens:")
        for line in command_pane_lines(settings.command_panes):
            click.echo("  " + line)


@main.command()
@common_options
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file (default: print it). '-' prints it.",
)
@click.pass_context
def report(ctx: click.Context, incident_id: str | None, output: Path | None, **flags: Any) -> None:
    """Write the post-incident report (Markdown) for ID, or for the most recent incident."""
    settings = settings_from(ctx, **flags)
    with open_journal(settings) as journal:
        ids = journal.incident_ids()
    demo = demo_settings(settings)
    if incident_id is None and not ids:
        found = demo_ids(demo)
        where = f"; {demo_pointer(demo, found, 'report')}" if demo is not None and found else ""
        fail(f"report: no incidents in {settings.journal_path}{where}", 1)
    if incident_id is not None and incident_id not in ids:
        if demo is None or incident_id not in demo_ids(demo):
            fail(f"report: no incident {incident_id} in {settings.journal_path}", 2)
        say(f"{incident_id} is a demo incident: reported from the demo's journal {demo.journal_path}")
        settings = demo
    with open_journal(settings) as journal:
        incident = journal.load(incident_id or ids[-1], settings.playbook)
    incident_id = incident.id
    from warroom.comms.report import ReportError, build_report

    try:
        text = build_report(incident, settings, now=utc_now())
    except ReportError as exc:
        fail(f"report: {exc}", 1)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    from warroom.comms.report import write_report

    try:
        write_report(output, text)
    except OSError as exc:
        fail(f"report: cannot write {output} ({exc.strerror or exc})", 1)
    click.echo(f"{incident_id}: report written to {output}", err=True)


def _shared_settings(ctx: click.Context, flags: dict[str, Any], command: str) -> Settings:
    settings = settings_from(ctx, **flags)
    if not settings.shared.configured:
        fail(f"{command}: no shared database: set [shared] dsn in warroom.toml or WARROOM_SHARED_DSN", 2)
    return settings


@main.group(name="shared")
def shared_group() -> None:
    """The team's shared database (see `warroom shared init --help`)."""


@shared_group.command(name="init")
@common_options
@click.pass_context
def shared_init(ctx: click.Context, **flags: Any) -> None:
    """Create the shared war room's tables in [shared] dsn (WARROOM_SHARED_DSN). Safe to run again."""

    from warroom.shared.schema import SharedError, connect, init, why

    settings = _shared_settings(ctx, flags, "shared init")

    async def run() -> tuple[int, bool]:
        try:
            conn = await connect(settings.shared.dsn, settings.shared.connect_timeout.total_seconds())
        except Exception as exc:
            raise SharedError(why(exc)) from None
        try:
            return await init(conn)
        except SharedError:
            raise
        except Exception as exc:
            raise SharedError(why(exc)) from None
        finally:
            await conn.close()

    try:
        version, created = asyncio.run(run())
    except SharedError as exc:
        fail(f"shared init: {exc}", 1)
    where = settings.shared.masked_dsn
    if created:
        click.echo(f"shared war room ready in {where} (schema {version})")
    else:
        click.echo(f"shared war room already set up in {where} (schema {version}); nothing changed")


@main.command()
@common_options
@click.argument("incident_id", metavar="ID")
@click.option("--no-console", "no_console", is_flag=True, help="Only pull the incident into the journal.")
@click.pass_context
def join(ctx: click.Context, incident_id: str, no_console: bool, **flags: Any) -> None:
    """Join a shared incident from the team's shared database: pull its events into this
    machine's journal, then open the console on it."""

    from warroom.incident.journal import incident_id_ok
    from warroom.shared.room import join as pull
    from warroom.shared.schema import SharedError

    if not incident_id_ok(incident_id):
        fail(f"join: {incident_id!r} is not an incident id (INC-YYYY-MM-DD-###)", 2)
    settings = _shared_settings(ctx, flags, "join")
    with open_journal(settings) as journal:
        try:
            added, problems = asyncio.run(
                pull(
                    journal, settings.shared.dsn, settings.shared.connect_timeout.total_seconds(), incident_id
                )
            )
        except SharedError as exc:
            fail(f"join: {exc}", 1)
    for problem in problems:
        say(problem)
    pulled = counted(added, "event")
    say(f"{incident_id}: {pulled} pulled from the shared database into {settings.journal_path}")
    if no_console:
        return
    from warroom.ui.app import run_console

    sys.exit(run_console(settings, incident_id=incident_id))


@main.command()
@common_options
@click.argument("role", type=click.Choice(["lead", "comms", "ops", "scribe"]))
@click.argument("person", required=False, default="")
@click.option("--incident", "incident_id", metavar="ID", help="The incident (default: the one open).")
@click.pass_context
def role(ctx: click.Context, role: str, person: str, incident_id: str | None, **flags: Any) -> None:
    """Give a war-room role (lead, comms, ops: the driver, scribe) to PERSON, or to nobody:
    handed over as an event, which a console open on the incident shares with the team."""
    from warroom.incident import events as ev
    from warroom.text import clean

    settings = settings_from(ctx, **flags)
    person = clean(person, max_len=100)
    with open_journal(settings) as journal:
        if incident_id is None:
            open_ = journal.open_incidents(settings.playbook)
            if len(open_) != 1:
                fail(f"role: {len(open_)} incidents are open: name one with --incident ID", 2)
            incident = open_[0]
        elif not journal.exists(incident_id):
            fail(f"role: no incident {incident_id} in {settings.journal_path}", 2)
        else:
            incident = journal.load(incident_id, settings.playbook)
        body = ev.RoleAssigned(role=role, person=person, previous=incident.roles.get(role, ""))
        journal.append(incident.id, body)
    click.echo(f"{incident.id}: {body.describe()}")


@main.group(name="journal")
def journal_group() -> None:
    """Look after the journal (see `warroom journal recover --help`)."""


@journal_group.command()
@common_options
@click.pass_context
def recover(ctx: click.Context, **flags: Any) -> None:
    """Salvage a damaged journal: the damaged file is kept aside, byte for byte; every event that
    can still be read goes into a fresh journal; events that cannot be read or replayed are set
    aside in it (table damaged_events), never deleted. Close every console first."""
    from warroom.incident.recovery import recover as salvage

    settings = settings_from(ctx, **flags)
    # No Journal is opened here: closing one would checkpoint the log into the damaged file.
    report = salvage(settings.journal_path, playbook=settings.playbook)
    for line in report.lines():
        click.echo(line)


@main.command()
@common_options
@click.option("--reset", is_flag=True, help="Start over: a new database, repository and demo incident.")
@click.option("--keep-db", "keep_db", is_flag=True, help="Leave the embedded PostgreSQL running on exit.")
@click.option("--online", is_flag=True, help="Read the real Supabase and Twilio status pages.")
@click.pass_context
def demo(ctx: click.Context, reset: bool, keep_db: bool, online: bool, **flags: Any) -> None:
    """Open the console on a live demo incident (embedded PostgreSQL, demo repository).

    Needs the demo extra: pip install 'warroom[demo]'. Its state (database, repository, journal)
    lives in the state dir's demo/ folder, apart from real incidents.
    """
    import signal

    settings = settings_from(ctx, **flags)
    given = dict(ctx.obj or {}) if isinstance(ctx.obj, dict) else {}
    given.update({k: v for k, v in flags.items() if v is not None})
    for name in ("dsn", "repo"):
        if given.get(name) is not None:
            click.echo(f"warroom: demo: ignoring --{name} (the demo brings its own)", err=True)
    if settings.shared.configured:  # made-up incidents never reach the team's shared war room
        from dataclasses import replace

        settings = replace(settings, shared=replace(settings.shared, dsn=""))
        click.echo("warroom: demo: not sharing (the demo's incident is not the team's)", err=True)

    def _exit_on(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _exit_on) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        from warroom.demo.session import DemoError, prepare

        try:
            session = prepare(settings, reset=reset, online=online)
        except DemoError as exc:
            fail(f"demo: {exc}", 1)
        for notice in session.notices:
            click.echo(f"warroom: demo: {notice}", err=True)
        try:
            try:
                from warroom.ui.app import run_console
            except ImportError as exc:
                fail(f"demo: the console is not available in this build ({exc})", 1)
            status = run_console(session.settings, incident_id=session.incident_id, demo=session)
        finally:
            session.close(keep_db=keep_db)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(status if isinstance(status, int) else 0)


@main.command()
@common_options
@click.option("--incident", "incident", metavar="ID", help="Show this incident (default: the open one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8420, show_default=True, help="0: any free port."
)
@click.option("--read-only-internal", "session", is_flag=True, hidden=True)
@click.pass_context
def serve(
    ctx: click.Context, incident: str | None, host: str, port: int, session: bool, **flags: Any
) -> None:
    """Show the console read-only in a browser, updated live from the journal (textual-serve).

    Nothing can be ticked, copied, edited, resolved, paged or posted from it. Listens on
    127.0.0.1 unless --host says otherwise; then the printed URL carries a token, needed to see it.
    Needs the serve extra: pip install 'warroom[serve]'.
    """
    settings = settings_from(ctx, **flags)
    if session:  # one browser session (textual-serve runs this)
        if incident is None:
            fail("serve: --read-only-internal needs --incident", 2)
        from warroom.ui.readonly import run_view

        sys.exit(run_view(settings, incident))
    try:
        from warroom.ui.serve import serve as run_server
    except ImportError as exc:
        fail(f"serve: needs the serve extra: pip install 'warroom[serve]' ({exc})", 1)
    from warroom.incident.readonly import ReadOnlyJournal

    with ReadOnlyJournal(settings.journal_path, actor=settings.user) as journal:
        if incident is not None and not journal.exists(incident):
            fail(f"serve: no incident {incident} in {settings.journal_path}", 2)
        if incident is None:
            open_ = journal.open_incidents(settings.playbook)
            tell_problems(open_.problems)
            if not open_:
                fail(f"serve: no incident is open in {settings.journal_path}; name one with --incident ID", 1)
            incident = open_[-1].id
            if len(open_) > 1:
                say(
                    f"{len(open_)} open incidents: showing the latest, {incident} (--incident ID for another)"
                )
    given = dict(ctx.obj or {}) if isinstance(ctx.obj, dict) else {}
    given.update({k: v for k, v in flags.items() if v is not None})
    if given.get("dsn"):  # to the sessions through their environment, never their command line
        import os

        os.environ["WARROOM_DSN"] = str(given["dsn"])
    args = ["--incident", incident]
    for name in ("config", "state_dir", "repo", "theme"):
        if given.get(name) is not None:
            args += [f"--{name.replace('_', '-')}", str(given[name])]
    try:
        run_server(
            args=args,
            host=host,
            port=port,
            title=f"warroom · {incident} · read-only",
            announce=lambda url: click.echo(f"warroom: {incident} read-only at {url}", nl=True),
        )
    except OSError as exc:
        fail(f"serve: cannot listen on {host}:{port} ({exc.strerror or exc})", 1)
