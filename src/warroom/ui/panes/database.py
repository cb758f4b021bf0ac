"""The database panes: error tallies, database health (with the error rate), SMS failures, and
the team's extra query panes.

Every pane shows the age of its data. While the database is unreachable the last data stays,
dimmed, under "unreachable since HH:MM:SS - retrying in N s (attempt k)" and the error. A pane
whose own query failed says why in one line and offers R to retry; the others keep running.
Tables are updated in place by row key, so the cursor stays where the responder put it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from warroom.durations import format_duration, local
from warroom.sources.dbpoll import query_pane_name
from warroom.text import mask_phones
from warroom.ui.base import Pane, age_text, fresh_age_text, rich_style, update_static
from warroom.ui.tables import KeyedTable, sync_table

if TYPE_CHECKING:
    from warroom.sources.dbpoll import ConnectionState, DbPoll

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int], width: int) -> str:
    """``values`` squeezed into ``width`` cells (sums of neighbours), scaled to their maximum."""
    if width <= 0 or not values:
        return ""
    n = len(values)
    if n > width:
        buckets = [sum(values[i * n // width : (i + 1) * n // width]) for i in range(width)]
    else:
        buckets = list(values)
    top = max(buckets)
    if top <= 0:
        return " " * len(buckets)
    return "".join(
        " " if v == 0 else SPARK[min(len(SPARK) - 1, (v * len(SPARK) - 1) // top)] for v in buckets
    )


def kinds(data: Any) -> str:
    """``12 kinds``; past the tallies' cap, ``500+ kinds (1,234 in rarer ones)``: the errors of the
    kinds not tracked one by one, in the totals and in no row of the table."""
    if not data.other:
        return f"{data.distinct:,} kinds"
    return f"{data.distinct:,}+ kinds ({data.other:,} in rarer ones)"


def at_declaration(count: int, delta_declared: int | None) -> str:
    """The window's count as it stood at the declaration ("–" without one): compared with the
    count now, it cannot read as negative errors the way a signed difference did."""
    return "–" if delta_declared is None else f"{count - delta_declared:,}"


def signed(n: int | None) -> str:
    if n is None:
        return "–"
    if n == 0:
        return "0"
    return f"{n:+,}"


@dataclass(frozen=True)
class DbView:
    """What a database pane shows: its own data (a snapshot, its query's failure, or None before
    the first answer) and the connection's state, from the last poll."""

    connection: ConnectionState
    data: Any
    stale: bool  # fetched before the last poll (the database did not answer since): dimmed
    polled_at: datetime

    @classmethod
    def of(cls, poll: DbPoll, data: Any) -> DbView:
        return cls(poll.connection, data, poll.is_stale(data), poll.fetched_at)


class DbPane(Pane):
    """A pane fed by the database poll (``view``, set by the app): its data, the status line with
    the data's age (the only text the clock changes), staleness, failure and retry."""

    QUERY: ClassVar[str] = ""  # what R retries (a name PostgresSource.retry knows)
    BINDINGS: ClassVar = [Binding("R", "retry", "Retry query", id="db_retry")]
    DEFAULT_CSS = """
    DbPane .db-status { height: auto; color: $text-muted; }
    DbPane.-stale .db-body { opacity: 55%; }
    DbPane.-stale .db-status { color: $text-warning; }
    DbPane.-failed .db-status { color: $text-error; }
    """

    view: reactive[DbView | None] = reactive(None, repaint=False)
    _good_at: datetime | None = None  # when the data on screen was fetched
    _drawn_width = 0  # the pane's width when its data was last drawn

    def refresh_rows(self) -> None:
        self.watch_view(self.view)

    def watch_view(self, view: DbView | None) -> None:
        if not self.is_mounted:
            return
        fetched = getattr(view.data, "fetched_at", None) if view is not None else None
        if isinstance(fetched, datetime):
            self._good_at = fetched
        self.show_clock(self.wapp.clock())
        self._drawn_width = self.size.width
        try:
            self.show_data(view.data if view is not None else None)
        except Exception as exc:  # a pane that cannot render must not end the console
            self.log.error(f"pane {self.id} failed to render: {exc!r}")

    def show_data(self, data: Any) -> None:
        """Render this pane's data (a snapshot, a QueryFailure, or None)."""

    def on_resize(self) -> None:
        """A new width: draw the data again, so what is sized to the pane (the sparklines) fits it."""
        if self.size.width == self._drawn_width or self.view is None:
            return
        self._drawn_width = self.size.width
        try:
            self.show_data(self.view.data)
        except Exception as exc:  # a pane that cannot render must not end the console
            self.log.error(f"pane {self.id} failed to render: {exc!r}")

    def show_clock(self, now: datetime) -> None:
        line, stale, failed = self.status_line(self.view, now)
        status = self.query_one(".db-status", Static)
        update_static(status, line)
        self.set_class(stale, "-stale")
        self.set_class(failed, "-failed")

    def status_line(self, view: DbView | None, now: datetime) -> tuple[Content, bool, bool]:
        """(line, stale, failed) for this pane."""
        from warroom.sources.dbpoll import QueryFailure

        tz = self.wapp.settings.tz
        if view is None:
            return Content.styled("connecting…", "$text-muted"), False, False
        data = view.data
        if isinstance(data, QueryFailure):
            since = local(data.since, tz).strftime("%H:%M:%S")
            shown = f" · showing data from {age_text(self._good_at, now)}" if self._good_at else ""
            return (
                Content.assemble(
                    (f"query failed ({data.kind}) since {since}: ", "bold $text-error"),
                    (data.reason, "$text-error"),
                    (shown, "$text-warning"),
                    ("  · R retries", "$text-muted"),
                ),
                self._good_at is not None,
                True,
            )
        if not view.connection.connected:
            line = view.connection.describe(now, tz)
            if view.connection.status == "unreachable" and view.connection.last_error:
                line += f": {view.connection.last_error}"
            age = f" · data from {age_text(data.fetched_at, now)}" if data is not None else " · no data yet"
            return Content.assemble((line, "bold $text-warning"), (age, "$text-warning")), True, False
        if data is None:
            return Content.styled("waiting for the first poll…", "$text-muted"), False, False
        if view.stale:  # fetched before the last poll: the exact age, beside the dimmed data
            return Content.styled(f"updated {age_text(data.fetched_at, now)}", "$text-muted"), True, False
        return Content.styled(f"updated {fresh_age_text(data.fetched_at, now)}", "$text-muted"), False, False

    def action_retry(self) -> None:
        self.wapp.retry_db(self.QUERY)


def _count_of(cell: Any) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    try:
        return int(text.replace(",", ""))
    except ValueError:
        return 0


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


class ErrorsPane(DbPane):
    """Top errors in the window: count, change since the last poll and since the declaration, a
    per-minute sparkline, first seen, NEW for errors that did not occur before the incident."""

    TITLE = "Errors"
    QUERY = "errors"
    COLUMNS: ClassVar = [
        ("count", "Count"),
        ("dpoll", "Δpoll"),
        ("ddecl", "At declaration"),  # the same window's count then: a count, never negative
        ("spark", "per minute"),
        ("first", "First"),
        ("type", "Type"),
        ("message", "Message"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(classes="db-status")
        yield Static(id="errors-total", classes="db-body")
        table = KeyedTable(id="errors-table", classes="db-body", cursor_type="row", zebra_stripes=True)
        for key, label in self.COLUMNS:
            table.add_column(label, key=key)
        yield table

    def spark_width(self) -> int:
        return 30 if self.size.width >= 120 else (20 if self.size.width >= 90 else 12)

    def show_data(self, data: Any) -> None:
        from warroom.sources.tallies import TallySnapshot

        if not isinstance(data, TallySnapshot):
            if data is None:
                self.query_one("#errors-total", Static).update("")
            return
        tz = self.wapp.settings.tz
        minutes = int(data.window.total_seconds() // 60)
        self.border_title = f"Errors · top {data.limit:,} in the last {minutes} min"
        totals = [n for _, n in data.totals_per_minute]
        trend = data.trend
        arrow = {"increasing": ("▲", "bold $text-error"), "decreasing": ("▼", "bold $text-success")}.get(
            trend.direction, ("▶", "$text-muted")
        )
        pct = f" {trend.change_pct:+.0f}%" if trend.change_pct is not None else ""
        head = Content.assemble(
            (f"{trend.recent_per_minute:,.0f}", "bold"),
            (" errors/min ", "$text-muted"),
            (f"{arrow[0]} {trend.direction}{pct}", arrow[1]),
            (f" (was {trend.previous_per_minute:,.0f}/min)  ", "$text-muted"),
            (sparkline(totals[:-1], min(len(totals), 40 if self.size.width >= 100 else 20)), "$text-accent"),
            (f"  {data.total:,} in {minutes} min · {kinds(data)}", "$text-muted"),
        )
        for note in (data.baseline_error, *data.notes):
            if note:
                head = Content.assemble(head, ("\n" + note, "$text-warning"))
        update_static(self.query_one("#errors-total", Static), head)
        width = self.spark_width()
        up, spark, fresh = (
            rich_style(self.app, s) for s in ("$text-error", "$text-accent", "bold $text-warning")
        )
        rows = []
        for row in data.rows:
            new = row.is_new is True
            first = local(row.first_seen, tz).strftime("%H:%M") if row.first_seen else "–"
            rows.append(
                (
                    row.key,
                    [
                        Text(f"{row.count:,}", style="bold", justify="right"),
                        Text(signed(row.delta_poll), style=up if row.delta_poll > 0 else "", justify="right"),
                        Text(at_declaration(row.count, row.delta_declared), justify="right"),
                        Text(sparkline(row.per_minute, width), style=spark),
                        Text(("✦ NEW " if new else "") + first, style=fresh if new else ""),
                        Text(row.error_type, style="bold"),
                        Text(mask_phones(row.error_message)),
                    ],
                )
            )
        table = self.query_one("#errors-table", KeyedTable)
        sync_table(
            table,
            rows,
            ("count", "type", "message"),
            lambda cells: (-_count_of(cells[0]), _plain(cells[1]), _plain(cells[2])),
        )

    def copy_text(self) -> tuple[str, str] | None:
        table = self.query_one("#errors-table", KeyedTable)
        if not table.row_count:
            return None
        row = table.get_row_at(table.cursor_row)
        return ("error", f"{_plain(row[5])}: {_plain(row[6])} ({_plain(row[0])} in the window)")


class HealthPane(DbPane):
    """Connections by state against max_connections, running, longest and blocked queries, size,
    and the error rate with the playbook's resolution criterion."""

    TITLE = "Database"
    QUERY = "health"
    BINDINGS: ClassVar = [
        *DbPane.BINDINGS,
        Binding(
            "c",
            "app.cancel_backend",
            "Cancel query",
            id="db_cancel",
            tooltip=("Cancel a backend's query (pg_cancel_backend): pick it, see the SQL, confirm"),
        ),
        Binding(
            "K",
            "app.terminate_backend",
            "Terminate",
            id="db_terminate",
            tooltip=("Terminate a backend (pg_terminate_backend): pick it, see the SQL, confirm"),
        ),
        Binding(
            "m",
            "app.pause_campaign",
            "Pause campaign",
            id="db_pause",
            tooltip=("Pause a campaign (the playbook's mitigation, [database] pause_campaign_sql)"),
        ),
    ]
    rate: reactive[Any] = reactive(None, repaint=False)  # ErrorRateSnapshot | QueryFailure | None
    statements: reactive[Any] = reactive(None, repaint=False)  # StatementsSnapshot | QueryFailure | None
    DEFAULT_CSS = """
    HealthPane { height: auto; }
    HealthPane #health-scroll { height: auto; max-height: 14; }
    """

    def compose(self) -> ComposeResult:
        yield Static(classes="db-status")
        with VerticalScroll(id="health-scroll", classes="db-body"):
            yield Static(id="health-body")

    def watch_statements(self) -> None:
        self.watch_rate()

    def watch_rate(self) -> None:
        if self.is_mounted:
            self.show_data(self.view.data if self.view is not None else None)

    def show_data(self, data: Any) -> None:
        from warroom.sources.dbpoll import ErrorRateSnapshot, HealthSnapshot, QueryFailure

        app = self.wapp
        now = app.clock()
        lines: list[Content] = []
        if self.view is not None and self.view.connection.dsn:
            self.border_subtitle = self.view.connection.dsn
        if isinstance(data, HealthSnapshot):
            frac = data.used_fraction
            width = 20
            filled = min(width, round(frac * width))
            style = "$text-success" if frac < 0.7 else ("$text-warning" if frac < 0.9 else "bold $text-error")
            lines.append(
                Content.assemble(
                    ("Connections ", "$text-muted"),
                    (f"{data.total:,}/{data.max_connections:,} ", "bold"),
                    ("█" * filled, style),
                    ("░" * (width - filled), "$text-muted"),
                    (f" {frac:.0%}", style),
                )
            )
            lines.append(
                Content.assemble(
                    ("  active ", "$text-muted"),
                    (f"{data.active:,}", "bold"),
                    (" · lock wait ", "$text-muted"),
                    (f"{data.waiting:,}", "bold $text-error" if data.waiting else "bold"),
                    (" · idle ", "$text-muted"),
                    (f"{data.idle:,}", ""),
                    (" · idle in tx ", "$text-muted"),
                    (
                        f"{data.idle_in_transaction:,}",
                        "bold $text-warning" if data.idle_in_transaction else "",
                    ),
                )
            )
            lines.append(
                Content.assemble(
                    ("Running ", "$text-muted"),
                    (f"{data.running:,}", "bold"),
                    ("  blocked ", "$text-muted"),
                    # every session waiting on a lock, not only the few listed below
                    (f"{data.blocked_count:,}", "bold $text-error" if data.blocked_count else "bold"),
                )
            )
            if data.longest is not None:
                lines.append(
                    Content.assemble(
                        ("Longest ", "$text-muted"),
                        (format_duration(timedelta(seconds=data.longest.seconds)), "bold $text-warning"),
                        (f" pid {data.longest.pid} ", "$text-muted"),
                        (data.longest.query, ""),
                    )
                )
            if data.blocked:
                b = data.blocked[0]
                by = ",".join(str(p) for p in b.blocked_by) or "?"
                others = max(data.blocked_count, len(data.blocked)) - 1
                more = f" (+{others} more)" if others > 0 else ""
                lines.append(
                    Content.assemble(
                        ("Blocked ", "$text-muted"),
                        (f"pid {b.pid} ", "bold $text-error"),
                        (f"{format_duration(timedelta(seconds=b.seconds))} behind {by} ", ""),
                        (f"({b.blocker_state}){more}", ""),
                    )
                )
                lines.append(Content.styled(f"  {b.query}", "$text-muted"))
            if isinstance(data.size, QueryFailure):
                lines.append(Content.assemble(("Size ", "$text-muted"), (data.size.reason, "$text-error")))
            elif data.size is not None:
                lines.append(
                    Content.assemble(
                        ("Size ", "$text-muted"),
                        (data.size.pretty, "bold"),
                        (f" ({fresh_age_text(data.size.fetched_at, now)})", "$text-muted"),
                    )
                )
        rate = self.rate
        if isinstance(rate, ErrorRateSnapshot):
            crit_style = {"met": "bold $text-success", "not met": "bold $text-error"}.get(
                rate.criterion, "$text-warning"
            )
            current = f"{rate.current:.2f}%" if rate.current is not None else "no traffic"
            settings = self.wapp.settings.errors
            rule = f"< {settings.rate_threshold:g}% for {format_duration(settings.rate_sustain)}"
            summary = rate.summary if rate.below_since is not None else ""
            lines.append(
                Content.assemble(
                    ("Error rate ", "$text-muted"),
                    (current, "bold"),
                    (f"  {summary}" if summary else "", ""),
                    (f"  resolve at {rule}: ", "$text-muted"),
                    (rate.criterion, crit_style),
                )
            )
        elif isinstance(rate, QueryFailure):
            lines.append(
                Content.assemble(
                    ("Error rate ", "$text-muted"),
                    (f"query failed ({rate.kind}): {rate.reason}", "$text-error"),
                    (" · R retries", "$text-muted"),
                )
            )
        lines += self.statement_lines()
        update_static(
            self.query_one("#health-body", Static), Content("\n").join(lines) if lines else Content()
        )

    def statement_lines(self) -> list[Content]:
        """The playbook's "Review performance metrics": the statements that took the most time
        since the console started watching (pg_stat_statements), or why they cannot be read."""
        from warroom.sources.dbpoll import QueryFailure, StatementsSnapshot

        data = self.statements
        if isinstance(data, QueryFailure):
            return [
                Content.assemble(
                    ("Slow queries ", "$text-muted"),
                    (f"query failed ({data.kind}): {data.reason}", "$text-error"),
                    (" · R retries", "$text-muted"),
                )
            ]
        if not isinstance(data, StatementsSnapshot):
            return []
        if data.hint:
            return [Content.assemble(("Slow queries ", "$text-muted"), (data.hint, "$text-warning"))]
        since = local(data.since, self.wapp.settings.tz).strftime("%H:%M") if data.since else "?"
        head = Content.assemble(
            ("Slow queries ", "$text-muted"),
            (f"since {since}", "bold"),
            (" · total, calls, mean", "$text-muted"),
        )
        if not data.rows:
            return [Content.assemble(head, ("  none yet", "$text-muted"))]
        return [
            head,
            *(
                Content.assemble(
                    (f"{_ms(q.total_ms):>9} ", "bold $text-warning"),
                    (f"{q.calls:>7,}× ", ""),
                    (f"{_ms(q.mean_ms):>8} ", "$text-muted"),
                    (q.query, ""),
                )
                for q in data.rows
            ),
        ]

    def action_retry(self) -> None:
        self.wapp.retry_db("health")
        self.wapp.retry_db("error_rate")
        self.wapp.retry_db("statements")


def _ms(ms: float) -> str:
    """``842 ms``, ``12.4 s``, ``3.1 min``."""
    if ms < 1000:
        return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:,.1f} s"
    return f"{ms / 60_000:,.1f} min"


class SmsPane(DbPane):
    """Failed SMS deliveries in the last hour by phone number (masked) and error."""

    TITLE = "SMS failures"
    QUERY = "sms"
    twilio: reactive[Any] = reactive(
        None, repaint=False
    )  # TwilioAccount | None: the account's status and balance

    def compose(self) -> ComposeResult:
        yield Static(classes="db-status")
        twilio = Static(id="sms-twilio")
        twilio.display = False  # until Twilio is configured and read
        yield twilio
        table = KeyedTable(id="sms-table", classes="db-body", cursor_type="row", zebra_stripes=True)
        table.add_column("Failed", key="count")
        table.add_column("Phone", key="phone")
        table.add_column("Error", key="error")
        yield table

    def on_mount(self) -> None:
        self.twilio = self.wapp.reach.twilio

    def watch_twilio(self, reading: Any) -> None:
        from warroom.ui.reach import twilio_line

        if self.is_mounted:
            line = self.query_one("#sms-twilio", Static)
            line.display = reading is not None
            line.update(twilio_line(reading) if reading is not None else "")

    def show_data(self, data: Any) -> None:
        from warroom.sources.dbpoll import SmsSnapshot

        if not isinstance(data, SmsSnapshot):
            return
        minutes = int(data.window.total_seconds() // 60)
        more = f" (top {len(data.rows):,} of {data.groups:,})" if data.truncated else ""
        self.border_title = f"SMS failures · {data.total_failed:,} in {minutes} min{more}"
        rows = [
            (
                r.key,
                [
                    Text(f"{r.count:,}", style="bold", justify="right"),
                    Text(r.phone),
                    Text(mask_phones(r.error_message)),
                ],
            )
            for r in data.rows
        ]
        sync_table(
            self.query_one("#sms-table", KeyedTable),
            rows,
            ("count", "phone", "error"),
            lambda cells: (-_count_of(cells[0]), _plain(cells[1]), _plain(cells[2])),
        )

    def copy_text(self) -> tuple[str, str] | None:
        table = self.query_one("#sms-table", KeyedTable)
        if not table.row_count:
            return None
        row = table.get_row_at(table.cursor_row)
        return ("SMS failure", f"{_plain(row[1])}: {_plain(row[2])} ({_plain(row[0])} failed)")


class QueryTablePane(DbPane):
    """A team's extra query pane ([[database.panes]]): its columns and rows as text."""

    def __init__(self, index: int, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index = index
        self.QUERY = query_pane_name(index)  # the source's name for this pane: R retries it
        self.border_title = Content(title)  # the team's words: never markup
        self._columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(classes="db-status")
        yield KeyedTable(id="query-table", classes="db-body", cursor_type="row", zebra_stripes=True)

    def show_data(self, data: Any) -> None:
        from warroom.sources.dbpoll import TablePane

        if not isinstance(data, TablePane):
            return
        table = self.query_one("#query-table", KeyedTable)
        if data.columns != self._columns:  # the query's shape changed (a team edited it): start over
            for key in [r.value for r in table.rows]:
                table.remove_row(key)
            for key in list(table.columns):
                table.remove_column(key)
            for i, name in enumerate(data.columns):
                table.add_column(Text(name), key=f"c{i}")
            self._columns = data.columns
        rows = [(f"r{i}", [Text(c) for c in row]) for i, row in enumerate(data.rows)]
        sync_table(table, rows)
        if data.truncated:
            self.border_subtitle = f"first {len(data.rows):,} rows"

    def action_retry(self) -> None:
        from warroom.sources.postgres import pane_name

        self.wapp.retry_db(pane_name(self.index))

    def copy_text(self) -> tuple[str, str] | None:
        table = self.query_one("#query-table", KeyedTable)
        if not table.row_count:
            return None
        return ("row", " | ".join(_plain(c) for c in table.get_row_at(table.cursor_row)))
