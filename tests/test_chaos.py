"""Chaos (issue 10): the monitored database stopped and restarted under the console, the console
SIGKILLed at random while ticking and copying, then started again. Every acknowledged action is in
the journal exactly once, the journal is intact, the screen shows the journal's state again after
each restart, and the timers are right.

The real parts: an embedded PostgreSQL of the test's own (stopping it disturbs no other test) with
the playbook's schema and a small writer inserting error rows all along, a P0 declared in a
journal, and the console (``python -m warroom``) in a real terminal (a private tmux), driven with
keys.

"Acknowledged" means the console showed it: the ☑ or ☐ of the item, the note in the timeline, the
phase marker, the countdown of the audience restarted. Only then is an action counted, and then the
journal must hold exactly one new event for it (the test accounts for every event the journal
holds: one per action, plus what the sources write down). An action whose key was sent just before
a SIGKILL may or may not have landed: after the restart there is at most one event for it.

The run is random but replayable: the seed is printed, and ``WARROOM_CHAOS_SEED=<seed>`` replays
the same plan (the timing of a real terminal and server still varies). ``WARROOM_CHAOS_SECONDS``
sets how long the chaos lasts (default 35 s; the whole test takes about a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from rich.cells import cell_len

from tmuxterm import Tmux, console_argv, needs_tmux, process_gone, warroom_env
from warroom.durations import clock_time, local
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import Incident
from warroom.playbook import DEFAULT
from warroom.sources.postgres import schema_sql

pytestmark = [needs_tmux, pytest.mark.slow, pytest.mark.pg]

TZ_NAME = "Europe/Berlin"  # not UTC: the screen shows local times, the journal UTC instants
TZ = ZoneInfo(TZ_NAME)
ACTOR = "chaos"
WIDTH, HEIGHT = 200, 66  # tall enough for every checklist item, wide enough for one-line entries
CHAOS_SECONDS = float(os.environ.get("WARROOM_CHAOS_SECONDS", "35"))
ACK_TIMEOUT = 15.0  # a key's effect on screen (2 shared cores, other suites running)
START_TIMEOUT = 40.0  # a restarted console showing the journal's state
RECOVER_TIMEOUT = 45.0  # the database panes after the server is back (the backoff is capped at 30 s)
DOWN_TIMEOUT = 15.0  # the database panes saying the server is unreachable
SOURCE_KINDS = frozenset({"evidence_recorded", "observed"})  # what the console writes by itself
TEMPLATES = {  # key: template name; copied, then confirmed sent with u / U
    "1": "internal_declaration",
    "2": "internal_update",
    "4": "customer_notification",
    "6": "customer_update",
}  # (3 and 5, the resolutions, ask first while the incident is open and are never an update)
CONFIRM = {"internal": "u", "customer": "U"}
ERRORS = [
    ("TwilioError", "SMS delivery failed: 30003 handset off"),
    ("DatabaseError", "canceling statement due to statement timeout"),
    ("EdgeFunctionError", "send-campaign crashed"),
]
STAMP = re.compile(r"^(?:\d\d-\d\d )?\d\d:\d\d:\d\d ")
SCROLLBAR = " ▁▂▃▄▅▆▇█"  # a vertical scrollbar's thumb, at the right end of a row
NARROW = "\x00"  # fills the second cell of a wide character, so string index == column


# -- the screen --------------------------------------------------------------------------------------
def columns(row: str) -> str:
    """``row`` with every wide character followed by a filler: indexes are terminal columns."""
    return "".join(ch + NARROW if cell_len(ch) == 2 else ch for ch in row)


def pane(screen: str, title: str) -> list[str] | None:
    """The inner lines of the bordered pane titled ``title`` (its border title starts with it)."""
    rows = [columns(r) for r in screen.splitlines()]
    for top, row in enumerate(rows):
        left = row.find(f"╭─ {title}")
        if left < 0:
            continue
        right = row.find("╮", left)
        lines = []
        for below in rows[top + 1 :]:
            if len(below) <= right or below[left] != "│":
                break
            lines.append(below[left + 1 : right].replace(NARROW, ""))
        return lines
    return None


def pane_text(screen: str, title: str) -> str:
    lines = pane(screen, title)
    return "\n".join(lines) if lines is not None else ""


def squash(text: str) -> str:
    """Text compared without its whitespace (where a line wraps is the pane's business)."""
    return "".join(text.split())


def timeline_entries(screen: str) -> list[str]:
    """The timeline's visible entries, continuation rows joined (a cut first entry dropped)."""
    entries: list[str] = []
    for line in pane(screen, "Timeline") or []:
        text = line.rstrip(SCROLLBAR).strip()
        if STAMP.match(text):
            entries.append(text)
        elif entries and text:
            entries[-1] += " " + text
    return entries


def shown_dues(screen: str) -> dict[str, str]:
    """``{"internal": "16:36:24 CET", "customer": ...}`` as the Next update pane shows them."""
    text = pane_text(screen, "Next update")
    out: dict[str, str] = {}
    primary = re.search(r"(INTERNAL|CUSTOMER) UPDATE", text)
    due = re.search(r"^\s*due (\d\d:\d\d:\d\d \S+)", text, re.M)
    if primary and due:
        out[primary.group(1).lower()] = due.group(1)
    for m in re.finditer(
        r"^\s*(Internal|Customer)\s+(?:in|OVERDUE)\s.*?· due (\d\d:\d\d:\d\d \S+)", text, re.M
    ):
        out[m.group(1).lower()] = m.group(2)
    return out


def shown_phase(screen: str) -> int | None:
    m = re.search(r"▶ (\d) ", pane_text(screen, "Phase"))
    return int(m.group(1)) if m else None


ITEMS = [(cl.key, item.key, item.text) for cl in DEFAULT.checklists("P0") for item in cl.items]
PREFIX = 26  # the start of an item's text: its first line on screen, unique among the items
assert len({text[:PREFIX] for _, _, text in ITEMS}) == len(ITEMS)


def shown_tick(screen: str, text: str) -> str | None:
    """``☑`` or ``☐`` as the Checklists pane shows the item, None when it is not on screen."""
    for line in pane(screen, "Checklists") or []:
        at = line.find(text[:PREFIX])
        if at >= 2 and line[at - 2] in "☑☐":
            return line[at - 2]
    return None


def db_status(screen: str) -> tuple[str, str]:
    """The status lines of the Errors and Database panes (their first lines)."""
    out = []
    for title in ("Errors", "Database"):
        lines = pane(screen, title) or [""]
        out.append(lines[0].strip())
    return out[0], out[1]


def db_down_shown(screen: str) -> bool:
    return all(line.startswith("unreachable since") for line in db_status(screen))


def errors_total(screen: str) -> int | None:
    m = re.search(r"([\d,]+) in 60 min", pane_text(screen, "Errors"))
    return int(m.group(1).replace(",", "")) if m else None


def db_up_shown(screen: str, at_least: int) -> bool:
    """Both database panes fresh again, the errors pane counting at least ``at_least`` rows."""
    fresh = all(line.startswith("updated") for line in db_status(screen))
    total = errors_total(screen)
    return fresh and total is not None and total >= at_least


# -- the journal as the test expects it -------------------------------------------------------------
def timeline_line(event: ev.Event, multi_day: bool) -> str:
    stamp = local(event.at, TZ).strftime("%m-%d %H:%M:%S" if multi_day else "%H:%M:%S")
    return f"{stamp} {event.actor} {ev.describe(event, DEFAULT)}"


DURATION = r"((?:\d+[dhms] ?){1,2})"  # warroom's one duration format: 45s, 20m 17s, 1h 05m
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def seconds(text: str) -> int:
    """``20m 17s`` or ``1h 05m`` in seconds (to the precision shown)."""
    return sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)([dhms])", text))


def clock_mismatches(screen: str, inc: Incident) -> list[str]:
    """The running clocks against the wall clock: the header's time since the declaration, the
    customer countdown's time left (one second of slack for the capture, one for the tick)."""
    now = datetime.now(UTC)
    wrong = []
    header = screen.splitlines()[0] if screen else ""
    elapsed = re.search(r"T\+" + DURATION, header)
    want = (now - inc.declared_at).total_seconds()
    if elapsed is None or abs(seconds(elapsed.group(1)) - want) > 2:
        wrong.append(f"time since declared: shows {elapsed and elapsed.group(1)}, it is {want:.0f} s")
    left = re.search(r"Customer\s+in " + DURATION, pane_text(screen, "Next update"))
    due = inc.next_update_due("customer")
    if due is not None and left is not None:
        want = (due - now).total_seconds()
        if abs(seconds(left.group(1)) - want) > 2:
            wrong.append(f"customer update in: shows {left.group(1)}, it is {want:.0f} s")
    return wrong


def screen_mismatches(screen: str, inc: Incident) -> list[str]:
    """How the screen differs from the journal's state (ticks, phase, countdowns, timeline)."""
    wrong = []
    for checklist, item, text in ITEMS:
        want = "☑" if inc.tick(checklist, item) else "☐"
        got = shown_tick(screen, text)
        if got != want:
            wrong.append(f"item {text!r}: shows {got}, the journal says {want}")
    phase = DEFAULT.phase_index(inc.phase) + 1
    if shown_phase(screen) != phase:
        wrong.append(f"phase: shows {shown_phase(screen)}, the journal says {phase}")
    dues = shown_dues(screen)
    for audience in ev.AUDIENCES:
        due = inc.next_update_due(audience)
        want_due = clock_time(due, TZ) if due is not None else None
        if dues.get(audience) != want_due:
            wrong.append(f"{audience} update due: shows {dues.get(audience)}, the journal says {want_due}")
    wrong += clock_mismatches(screen, inc)
    multi_day = inc.events[0].at.date() != inc.events[-1].at.date()
    expected = [timeline_line(e, multi_day) for e in inc.events]
    shown = timeline_entries(screen)
    tail = expected[len(expected) - len(shown) :]
    if len(shown) < min(3, len(expected)) or len(shown) > len(expected):
        wrong.append(f"timeline: {len(shown)} entries shown, the journal has {len(expected)}")
    else:
        diff = [(got, want) for got, want in zip(shown, tail, strict=True) if squash(got) != squash(want)]
        if diff:
            wrong.append(f"timeline: shows {diff[0][0]!r} where the journal has {diff[0][1]!r}")
    return wrong


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


# -- the parts ----------------------------------------------------------------------------------------
class ErrorWriter(threading.Thread):
    """The application going on under the incident: an error row every 0.1-0.4 s, reconnecting
    after an outage. ``committed`` counts the rows that made it."""

    def __init__(self, dsn: str, seed: int) -> None:
        super().__init__(name="chaos-writer", daemon=True)
        self.dsn = dsn
        self.rng = random.Random(seed)
        self.halt = threading.Event()
        self.committed = 0
        self.failures = 0

    def run(self) -> None:
        asyncio.run(self._write())

    async def _write(self) -> None:
        conn: asyncpg.Connection | None = None
        while not self.halt.is_set():
            try:
                if conn is None:
                    conn = await asyncpg.connect(self.dsn, timeout=2)
                kind, message = self.rng.choice(ERRORS)
                await conn.execute(
                    "INSERT INTO error_logs (error_type, error_message, source) VALUES ($1, $2, 'chaos')",
                    kind,
                    message,
                    timeout=2,
                )
                self.committed += 1
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self.failures += 1
                if conn is not None:
                    conn.terminate()
                conn = None
            await asyncio.sleep(self.rng.uniform(0.1, 0.4))
        if conn is not None:
            await conn.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)


class Console:
    """The console in a terminal of its own; a new terminal for every start."""

    def __init__(self, folder: Path, config: Path, state: Path, home: Path) -> None:
        self.folder = folder
        self.argv = console_argv("--config", str(config))
        self.env = warroom_env(state, home)
        self.term: Tmux | None = None
        self.pid = 0

    def start(self) -> None:
        self.term = Tmux(self.folder, width=WIDTH, height=HEIGHT)
        self.term.start(self.argv, env=self.env, cwd=self.folder)
        self.pid = self.term.program_pid()

    @property
    def t(self) -> Tmux:
        assert self.term is not None
        return self.term

    def screen(self) -> str:
        return self.t.screen()

    def send(self, *keys: str) -> None:
        self.t.send(*keys)

    def type(self, text: str) -> None:
        self.t.tmux("send-keys", "-t", "w", "-l", text)

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, the terminal is left as it was."""
        os.kill(self.pid, signal.SIGKILL)
        assert process_gone(self.pid, 5.0), f"the console (pid {self.pid}) outlived SIGKILL"
        self.close()

    def close(self) -> None:
        if self.term is not None:
            self.term.kill_server()
            self.term = None


@dataclass
class Action:
    """One thing a responder does: the keys, what the screen shows once it is done, and the one
    journal event it makes."""

    name: str
    matches: Callable[[ev.Body], bool]
    done: Callable[[str], bool]  # the screen shows the action's effect
    keys: list[str] = field(default_factory=list)
    text: str = ""  # typed into the note dialog (opened by the keys)


@dataclass
class Stats:
    actions: Counter[str] = field(default_factory=Counter)
    idle_kills: int = 0
    in_flight_kills: int = 0
    in_flight_landed: int = 0
    kills_while_down: int = 0
    outages: int = 0
    acked_while_down: int = 0
    restarts: list[float] = field(default_factory=list)
    recoveries: list[float] = field(default_factory=list)

    def summary(self, seconds: float, rows: int) -> str:
        worst = max(self.restarts, default=0.0)
        back = max(self.recoveries, default=0.0)
        return (
            f"{sum(self.actions.values())} actions acknowledged {dict(self.actions)}, "
            f"{self.acked_while_down} of them while the database was down; "
            f"{self.idle_kills + self.in_flight_kills} SIGKILLs ({self.idle_kills} idle, "
            f"{self.in_flight_kills} with a key in flight, {self.in_flight_landed} of those landed, "
            f"{self.kills_while_down} while the database was down), slowest restart {worst:.1f} s; "
            f"{self.outages} outages, slowest recovery {back:.1f} s; {rows} error rows written; "
            f"{seconds:.0f} s in all"
        )


@dataclass(frozen=True)
class Plan:
    """When the chaos strikes (seconds into the run): SIGKILLs (True: with a key in flight) and
    outages (start, length, and whether the console is SIGKILLed while the server is down)."""

    kills: list[tuple[float, bool]]
    outages: list[tuple[float, float, bool]]

    @classmethod
    def make(cls, rng: random.Random, seconds: float) -> Plan:
        n = 2 if seconds < 45 else 3
        span = seconds / n
        outages = [
            (i * span + rng.uniform(0.15, 0.45) * span, rng.uniform(2.0, 5.0), i == 0 or rng.random() < 0.5)
            for i in range(n)
        ]
        kills = [(rng.uniform(2.0, seconds - 1.0), rng.random() < 0.5) for _ in range(rng.randint(3, 5))]
        kills.append((rng.uniform(2.0, seconds - 1.0), True))  # at least one with a key in flight
        return cls(sorted(kills), outages)


# -- the run ------------------------------------------------------------------------------------------
class Chaos:
    def __init__(self, seed: int, server: object, dsn: str, folder: Path) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.server = server
        self.folder = folder
        self.log: list[str] = []
        self.stats = Stats()
        self.t0 = time.monotonic()
        state = folder / "state"
        self.journal_path = state / "journal.sqlite3"
        with Journal(self.journal_path, actor="alice") as journal:
            self.incident_id = journal.declare("P0", "SMS sending failing", lead="alice").incident_id
        home = folder / "home"
        (home / ".config").mkdir(parents=True)
        config = folder / "warroom.toml"
        config.write_text(
            "status_pages = []\n"
            f'[incident]\nuser = "{ACTOR}"\ntimezone = "{TZ_NAME}"\n'
            f'[database]\ndsn = "{dsn}"\npoll_interval = "500ms"\n'
            'connect_timeout = "1s"\nstatement_timeout = "1s"\n'
        )
        self.console = Console(folder, config, state, home)
        self.writer = ErrorWriter(dsn, seed + 1)
        self.known: list[ev.Event] = self.read_journal()  # every event the test accounted for
        self.acked: list[str] = []  # event ids of the acknowledged actions
        self.cursor = 0  # the highlighted checklist item (index into ITEMS)
        self.db_down = False
        self.notes = 0

    # -- helpers --------------------------------------------------------------------------------------
    def say(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.t0:6.1f}s {what}")

    def fail(self, what: str, screen: str = "") -> None:
        shown = f"\nthe screen:\n{screen}" if screen else ""
        raise AssertionError(f"{what}{shown}")

    def wait(self, check: Callable[[str], bool], what: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.console.screen()
            if check(screen):
                return screen
            time.sleep(0.05)
        self.fail(f"{what}: not on screen within {timeout:g} s", screen)
        return screen

    def read_journal(self) -> list[ev.Event]:
        with Journal(self.journal_path, actor="chaos-test") as journal:
            return journal.events(self.incident_id)

    def incident(self) -> Incident:
        with Journal(self.journal_path, actor="chaos-test") as journal:
            return journal.load(self.incident_id)

    # -- accounting for the journal -------------------------------------------------------------------
    def take_new(self, action: Action | None, *, landed_at_most: bool = False) -> ev.Event | None:
        """Account for the events written since the last look: the sources' own, plus exactly one
        for ``action`` (at most one when its key was in flight at a SIGKILL; none without one)."""
        events = self.read_journal()
        seen = [e.event_id for e in self.known]
        if [e.event_id for e in events[: len(seen)]] != seen:
            self.fail(f"the journal lost or reordered events: had {seen}, now {[e.event_id for e in events]}")
        new = events[len(seen) :]
        mine = [e for e in new if e.kind not in SOURCE_KINDS]
        what = action.name if action is not None else "no action"
        if action is None:
            allowed: tuple[int, ...] = (0,)
        else:
            allowed = (0, 1) if landed_at_most else (1,)
        if len(mine) not in allowed:
            self.fail(f"after {what}: {len(mine)} new events in the journal, {[e.body for e in mine]}")
        if mine and (action is None or not action.matches(mine[0].body) or mine[0].actor != ACTOR):
            self.fail(f"after {what}: an unexpected event in the journal, {mine[0]}")
        self.known += new
        self.check_sources()
        return mine[0] if mine else None

    def check_sources(self) -> None:
        """What the console writes by itself is never written twice however often it restarts:
        the declaration's tally once, a peak at most once (a run is shorter than the 5 minutes
        between two peaks)."""
        labels = Counter(
            (e.body.source, e.body.label) for e in self.known if isinstance(e.body, ev.EvidenceRecorded)
        )
        twice = {k: n for k, n in labels.items() if n > 1}
        if twice:
            self.fail(f"evidence written more than once: {twice}")

    def check_screen(self, what: str) -> None:
        """Wait for the screen to show the journal's state (read again each time: the sources
        may write meanwhile)."""
        end = time.monotonic() + START_TIMEOUT
        screen, wrong = "", ["nothing read yet"]
        while time.monotonic() < end:
            screen = self.console.screen()
            wrong = screen_mismatches(screen, self.incident())
            if not wrong:
                return
            time.sleep(0.1)
        self.fail(f"{what}: the screen does not show the journal's state: {wrong}", screen)

    # -- actions --------------------------------------------------------------------------------------
    def tick_action(self) -> Action:
        steps = self.rng.randint(-3, 6)
        target = min(max(self.cursor + steps, 0), len(ITEMS) - 1)  # the list stops at its ends
        checklist, item, text = ITEMS[target]
        ticked = self._ticked(checklist, item)
        want = "☐" if ticked else "☑"
        body = ev.ItemUnticked if ticked else ev.ItemTicked
        self.cursor = target
        if not ticked:  # a tick moves the cursor on to the next unticked item below, if any
            below = [i for i in range(target + 1, len(ITEMS)) if not self._ticked(*ITEMS[i][:2])]
            self.cursor = below[0] if below else target
        keys = ["j"] * steps if steps >= 0 else ["k"] * -steps
        return Action(
            f"{'untick' if ticked else 'tick'} {text!r}",
            lambda b: isinstance(b, body) and (b.checklist, b.item) == (checklist, item),
            lambda s: shown_tick(s, text) == want,
            [*keys, self.rng.choice(["space", "x"])],
        )

    def _ticked(self, checklist: str, item: str) -> bool:
        state = False
        for e in self.known:
            b = e.body
            if isinstance(b, ev.ItemTicked | ev.ItemUnticked) and (b.checklist, b.item) == (checklist, item):
                state = isinstance(b, ev.ItemTicked)
        return state

    def note_action(self) -> Action:
        self.notes += 1
        text = f"chaos-{self.seed % 10000}-note-{self.notes}"
        return Action(
            f"note {text}",
            lambda b: isinstance(b, ev.NoteAdded) and b.text == text,
            lambda s: any(e.endswith(f"Note: {text}") for e in timeline_entries(s)),
            ["n"],
            text,
        )

    def phase_action(self) -> Action:
        now = DEFAULT.phase_index(self.incident().phase)
        last = len(DEFAULT.phases) - 1
        step = 1 if now == 0 or (now < last and self.rng.random() < 0.6) else -1
        target = DEFAULT.phases[now + step]
        return Action(
            f"phase {target.key}",
            lambda b: isinstance(b, ev.PhaseChanged) and b.phase == target.key,
            lambda s: shown_phase(s) == target.number,
            ["p" if step > 0 else "P"],
        )

    def copy_action(self) -> Action:
        """Copy a message (journaled as a copy; its outbox file is written after the journal), or
        confirm the last copy sent with u / U (the countdown moves)."""
        key = "2" if self.rng.random() < 0.6 else self.rng.choice("146")
        name = TEMPLATES[key]
        inc = self.incident()
        if inc.copies and self.rng.random() < 0.5:
            return self.confirm_action(inc.copies[-1].audience)
        outbox = self.journal_path.parent / "outbox" / self.incident_id
        before = len(list(outbox.glob("*"))) if outbox.is_dir() else 0
        return Action(
            f"copy {key} ({name})",
            lambda b: isinstance(b, ev.MessageCopied) and b.template == name,
            lambda s: outbox.is_dir() and len(list(outbox.glob("*"))) > before,
            [key],
        )

    def confirm_action(self, audience: str) -> Action:
        inc = self.incident()
        before = inc.next_update_due(audience)
        shown_before = clock_time(before, TZ) if before is not None else None
        last = inc.last_update(audience)
        if last is not None:
            # the countdown shows whole seconds: a second update in the same second looks the same
            wait = (
                last.at.replace(microsecond=0) + timedelta(seconds=1.05) - datetime.now(UTC)
            ).total_seconds()
            time.sleep(max(0.0, wait))
        return Action(
            f"sent {CONFIRM[audience]} ({audience})",
            lambda b: isinstance(b, ev.UpdateSent) and b.audience == audience,
            lambda s: shown_dues(s).get(audience) not in (None, shown_before),
            [CONFIRM[audience]],
        )

    def random_action(self, weights: tuple[int, ...] = (45, 20, 20, 15)) -> Action:
        kind = self.rng.choices(["tick", "note", "copy", "phase"], weights=weights)[0]
        return {
            "tick": self.tick_action,
            "note": self.note_action,
            "copy": self.copy_action,
            "phase": self.phase_action,
        }[kind]()

    def send(self, action: Action) -> None:
        self.console.send(*action.keys)
        if action.text:
            self.wait(lambda s: "Add a note to the timeline" in s, "the note dialog", ACK_TIMEOUT)
            self.console.type(action.text)
            self.console.send("Enter")

    def act(self, action: Action) -> None:
        """Send the keys, wait for the screen to show the effect, account for the one event."""
        self.say(action.name)
        self.send(action)
        self.wait(action.done, f"the console did not acknowledge {action.name}", ACK_TIMEOUT)
        event = self.take_new(action)
        assert event is not None
        self.acked.append(event.event_id)
        self.stats.actions[action.name.split()[0]] += 1
        self.stats.acked_while_down += self.db_down
        self.check_screen(f"after {action.name}")

    # -- chaos ----------------------------------------------------------------------------------------
    def start_console(self, why: str) -> None:
        began = time.monotonic()
        self.console.start()
        self.cursor = 0  # a new console highlights the first item
        self.check_screen(f"the console started ({why})")
        self.stats.restarts.append(time.monotonic() - began)
        if self.db_down:
            self.wait(db_down_shown, "the database panes saying unreachable after a start", DOWN_TIMEOUT)

    def kill(self, in_flight: bool) -> None:
        action = None
        if in_flight:
            action = self.random_action(weights=(40, 10, 40, 10))  # mostly ticking and copying
            self.say(f"SIGKILL with {action.name} in flight")
            self.send(action)
            # at once (the key not read yet), while it is handled, or once it likely landed
            time.sleep(self.rng.choice([0.0, self.rng.uniform(0.0, 0.03), self.rng.uniform(0.03, 0.3)]))
        else:
            self.say("SIGKILL")
        self.console.kill()
        check = integrity(self.journal_path)
        assert check == "ok", f"the journal after a SIGKILL: integrity_check says {check}"
        event = self.take_new(action, landed_at_most=True)
        if event is not None:
            self.stats.in_flight_landed += 1
        self.stats.in_flight_kills += in_flight
        self.stats.idle_kills += not in_flight
        self.stats.kills_while_down += self.db_down
        self.start_console("after a SIGKILL" + (f" with {action.name} in flight" if action else ""))

    def outage(self, kill: bool) -> None:
        """The server stops: the panes say so, keys are still answered (a tick is journaled), and
        (``kill``) a console SIGKILLed now starts again without it."""
        self.say("the database stops")
        self.server.pause()  # type: ignore[attr-defined]
        self.db_down = True
        self.stats.outages += 1
        self.wait(db_down_shown, "the database panes saying unreachable", DOWN_TIMEOUT)
        self.act(self.tick_action())
        if kill:
            self.kill(in_flight=self.rng.random() < 0.5)

    def recover(self) -> None:
        self.say("the database comes back")
        self.server.resume()  # type: ignore[attr-defined]
        self.db_down = False
        began = time.monotonic()
        rows = self.writer.committed
        self.wait(
            lambda s: db_up_shown(s, rows),
            "the database panes recovered (fresh, counting the rows)",
            RECOVER_TIMEOUT,
        )
        self.stats.recoveries.append(time.monotonic() - began)

    def run(self, seconds: float) -> None:
        plan = Plan.make(self.rng, seconds)
        self.say(f"plan: kills {plan.kills}, outages {plan.outages}")
        self.writer.start()
        self.start_console("first start")
        self.wait(lambda s: db_up_shown(s, 0), "the database panes filled", RECOVER_TIMEOUT)
        kills, outages = list(plan.kills), list(plan.outages)
        up_at = 0.0
        start = time.monotonic()
        while (now := time.monotonic() - start) < seconds:
            if self.db_down and now >= up_at:
                self.recover()
            elif outages and not self.db_down and now >= outages[0][0]:
                _, length, kill = outages.pop(0)
                up_at = now + length
                self.outage(kill)
            elif kills and now >= kills[0][0]:
                self.kill(kills.pop(0)[1])
            else:
                self.act(self.random_action())
        if self.db_down:
            self.recover()
        rows = self.writer.committed
        self.kill(in_flight=False)  # the last restart: everything is there, the panes fill again
        self.wait(lambda s: db_up_shown(s, rows), "the database panes after the last start", RECOVER_TIMEOUT)

    def finish(self) -> None:
        """Quit with q, then the journal one last time."""
        self.console.send("q")
        assert process_gone(self.console.pid, 10.0), "q did not end the console"
        assert integrity(self.journal_path) == "ok"
        self.take_new(None)
        ids = Counter(e.event_id for e in self.read_journal())
        missing = [i for i in self.acked if ids[i] != 1]
        assert not missing, f"acknowledged events missing or doubled: {missing}"
        assert len(set(self.acked)) == len(self.acked)
        declared = [
            e
            for e in self.known
            if isinstance(e.body, ev.EvidenceRecorded)
            and e.body.source == "errors"
            and e.body.label == "at declaration"
        ]
        assert len(declared) == 1, f"the declaration's error tally was written {len(declared)} times"

    def close(self) -> None:
        self.console.close()
        self.writer.stop()
        with contextlib.suppress(Exception):
            self.server.resume()  # type: ignore[attr-defined]


@pytest.fixture
def chaos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A server of the test's own, with the playbook's schema in database ``app``."""
    from warroom.demo.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("chaos") / "pg")
    server.start()
    try:

        async def setup() -> None:
            admin = await asyncpg.connect(server.dsn())
            await admin.execute("CREATE DATABASE app")
            await admin.close()
            app = await asyncpg.connect(server.dsn("app"))
            await app.execute(schema_sql())
            await app.close()

        asyncio.run(setup())
        yield server
    finally:
        server.release()
        server.remove()  # as root the cluster lives under /var/lib/warroom-demo


def test_chaos_kills_and_outages_lose_no_acknowledged_action(chaos_server: object, tmp_path: Path) -> None:
    """Random actions (ticks, notes, copies, phases), each waited for on screen and accounted for
    in the journal; outages of 2-5 s (the panes say unreachable, keys still work, the panes come
    back); SIGKILLs idle, with a key in flight and while the server is down, each followed by a
    journal check (intact, nothing lost, nothing doubled) and a restart whose screen must show the
    journal's state: ticks, phase, timeline, the update countdowns and the time since declared."""
    seed = int(os.environ.get("WARROOM_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"chaos seed {seed} (replay: WARROOM_CHAOS_SEED={seed})")
    chaos = Chaos(seed, chaos_server, chaos_server.dsn("app"), tmp_path)  # type: ignore[attr-defined]
    began = time.monotonic()
    try:
        chaos.run(CHAOS_SECONDS)
        chaos.finish()
    except AssertionError as exc:
        steps = "\n".join(chaos.log[-40:])
        raise AssertionError(
            f"seed {seed} (replay: WARROOM_CHAOS_SEED={seed}): {exc}\nlast steps:\n{steps}"
        ) from exc
    finally:
        chaos.close()
    print(chaos.stats.summary(time.monotonic() - began, chaos.writer.committed))
