"""The runbooks' database actions: cancel or terminate a backend ("Kill long-running queries") and
pause a campaign (the playbook's mitigation "UPDATE campaigns SET status = 'paused' WHERE id =
..."), run on the action connection (``[database] action_dsn``), never on the watching one.

An action is planned first (:func:`cancel_backend`, :func:`terminate_backend`,
:func:`pause_campaign`: the exact SQL, shown to the responder before it runs, and the text to copy
when no action connection is configured), then run (:func:`run_action`): a connection of its own
(``application_name=warroom-action``), ``statement_timeout`` from ``[database] action_timeout``,
closed after. Every failure is a result (``failed`` with one clean line), never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from warroom.settings import DatabaseSettings
from warroom.sources.postgres.failures import one_line
from warroom.sources.postgres.session import close, dsn_arguments, ms
from warroom.text import clean

Outcome = Literal["done", "no effect", "failed"]
CAMPAIGN_ID_MAX = 200


@dataclass(frozen=True)
class DbAction:
    """What will run: ``sql`` (with ``$1`` when ``argument`` is given) and how people read it."""

    action: str  # "cancel", "terminate", "pause campaign"
    target: str  # "pid 4242", "spring-sale" (the campaign's id)
    sql: str
    argument: str | None = None  # $1, passed as a parameter (never spliced into the SQL)

    @property
    def shown(self) -> str:
        """The exact SQL and its parameter, for the confirmation and the journal."""
        return self.sql + (f"\n  with $1 = {literal(self.argument)}" if self.argument is not None else "")

    @property
    def to_copy(self) -> str:
        """The statement to run by hand (psql), the parameter written in as a quoted literal."""
        sql = self.sql if self.argument is None else self.sql.replace("$1", literal(self.argument))
        return sql.rstrip().rstrip(";") + ";"


@dataclass(frozen=True)
class ActionResult:
    outcome: Outcome
    result: str  # one clean line: what came back, or why it failed
    role: str  # the role it ran as

    @property
    def done(self) -> bool:
        return self.outcome == "done"


def literal(value: str) -> str:
    """An SQL string literal (standard_conforming_strings: only quotes are doubled)."""
    return "'" + value.replace("'", "''") + "'"


def cancel_backend(pid: int) -> DbAction:
    return DbAction("cancel", f"pid {int(pid)}", f"SELECT pg_cancel_backend({int(pid)})")


def terminate_backend(pid: int) -> DbAction:
    return DbAction("terminate", f"pid {int(pid)}", f"SELECT pg_terminate_backend({int(pid)})")


def pause_campaign(sql: str, campaign_id: str) -> DbAction:
    """The team's ``pause_campaign_sql`` for one campaign (its id cleaned: one line, bounded)."""
    cid = clean(campaign_id, max_len=CAMPAIGN_ID_MAX).strip()
    return DbAction("pause campaign", cid, sql.strip().rstrip(";").strip(), cid)


def action_role(dsn: str) -> str:
    """The role a DSN logs in as ("" when it does not say): never its password."""
    if "://" in dsn:
        with contextlib.suppress(ValueError):
            return clean(unquote(urlsplit(dsn).username or ""), max_len=63)
        return ""
    with contextlib.suppress(ValueError):
        return clean(str(dsn_arguments(dsn).get("user", "")), max_len=63)
    return ""


async def run_action(db: DatabaseSettings, action: DbAction) -> ActionResult:
    """Run ``action`` on the action connection; what came back, or why it could not run."""
    role = action_role(db.action_dsn)
    if not db.action_dsn:
        return ActionResult("failed", "no [database] action_dsn is configured", role)
    timeout = db.action_timeout.total_seconds()
    conn: Any = None
    try:
        async with asyncio.timeout(db.connect_timeout.total_seconds() + timeout + 2):
            conn = await _connect(db)
            if action.argument is None:
                value = await conn.fetchval(action.sql, timeout=timeout + 1)
                return _signalled(action, value, role)
            status = await conn.execute(action.sql, action.argument, timeout=timeout + 1)
            return _updated(status, role)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return ActionResult("failed", f"no answer within {timeout:g} s", role)
    except Exception as exc:
        return ActionResult("failed", clean(one_line(exc), max_len=300), role)
    finally:
        if conn is not None:
            await close(conn)


PROBE_SQL = (
    "SELECT current_user::text AS role, "
    "pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS can_signal, "
    "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser"
)


async def probe_action(db: DatabaseSettings) -> tuple[bool, str]:
    """``warroom check``'s line for the action connection: it connects, and says which role it is
    and whether it may signal other backends (it changes nothing)."""
    conn: Any = None
    try:
        async with asyncio.timeout(
            db.connect_timeout.total_seconds() + db.action_timeout.total_seconds() + 2
        ):
            conn = await _connect(db)
            row = await conn.fetchrow(PROBE_SQL, timeout=db.action_timeout.total_seconds() + 1)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return False, "action_dsn: no answer in time"
    except Exception as exc:
        return False, f"action_dsn: cannot connect: {clean(one_line(exc), max_len=300)}"
    finally:
        if conn is not None:
            await close(conn)
    role = clean(row["role"], max_len=63)
    if row["superuser"]:
        return True, f"action_dsn ok: role {role} (a superuser: prefer a role with pg_signal_backend only)"
    if not row["can_signal"]:
        return (
            False,
            f"action_dsn: role {role} may not signal backends (GRANT pg_signal_backend TO {role})",
        )
    return True, f"action_dsn ok: role {role}, may cancel and terminate backends (pg_signal_backend)"


async def _connect(db: DatabaseSettings) -> Any:
    import asyncpg

    return await asyncpg.connect(
        **dsn_arguments(db.action_dsn),
        timeout=db.connect_timeout.total_seconds(),
        command_timeout=db.action_timeout.total_seconds() + 1,
        statement_cache_size=0,
        server_settings={
            "application_name": "warroom-action",
            "statement_timeout": str(ms(db.action_timeout)),
        },
    )


def _signalled(action: DbAction, value: object, role: str) -> ActionResult:
    fn = "pg_cancel_backend" if action.action == "cancel" else "pg_terminate_backend"
    if value is True:
        return ActionResult("done", f"{fn} returned true", role)
    said = str(value).lower() if isinstance(value, bool) or value is None else clean(repr(value), max_len=40)
    return ActionResult("no effect", f"{fn} returned {said}: no such backend (it may have ended)", role)


def _updated(status: str, role: str) -> ActionResult:
    """``UPDATE 1``: done; ``UPDATE 0``: nothing matched."""
    said = clean(status or "", max_len=60)
    count = said.rsplit(" ", 1)[-1]
    if count.isdigit() and int(count) == 0:
        return ActionResult("no effect", f"{said}: no row matched", role)
    return ActionResult("done", said, role)
