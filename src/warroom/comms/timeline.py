"""The report's full timeline, condensed: every journal event a reader needs, once.

- A tick taken back later (ticked, then unticked) is neither; an item ticked, unticked and ticked
  again shows its last tick.
- An incident field edited several times shows its last value; edits of other fields in a row by
  the same person are one line naming them (their values are in the report's sections); the
  current theory and the root cause keep their words.
- Status-page changes in a row are one line.
- A copied message confirmed sent is the update sent; a copy never confirmed says so.
- Error evidence reads as errors per minute; the per-minute series records are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from warroom.comms.evidence import (
    AT_DECLARATION,
    AT_RESOLUTION,
    DEPLOY_SOURCE,
    ERRORS_SOURCE,
    PEAK,
    rate_text,
    read_errors,
)
from warroom.incident import events as ev
from warroom.incident.state import Incident
from warroom.text import clean

KEEP_WORDS = ("theory", "root_cause")  # field edits shown with their value


@dataclass(frozen=True)
class Line:
    at: datetime
    text: str


def _errors_line(body: ev.EvidenceRecorded) -> str | None:
    if body.label not in (AT_DECLARATION, PEAK, AT_RESOLUTION):
        return None
    rec = read_errors(body)
    words = {
        AT_DECLARATION: "Errors at declaration",
        PEAK: "Errors peaked",
        AT_RESOLUTION: "Errors at resolution",
    }
    if isinstance(rec, str) or rec.per_minute is None:
        return f"{words[body.label]}: {body.summary}" if body.summary else None
    return f"{words[body.label]}: {rate_text(rec.per_minute)} errors per minute"


def condensed(
    incident: Incident,
    titles: Mapping[str, str],
    describe: Callable[[ev.Event], str],
) -> list[Line]:
    """The condensed timeline, oldest first (see the module docstring)."""
    events = sorted(incident.events, key=lambda e: e.at)  # stable: folded order breaks ties
    dropped: set[str] = set()

    # Ticks taken back: pair each untick with the open tick of the same item before it.
    open_ticks: dict[tuple[str, str], str] = {}
    for e in events:
        b = e.body
        if isinstance(b, ev.ItemTicked):
            open_ticks[(b.checklist, b.item)] = e.event_id
        elif isinstance(b, ev.ItemUnticked):
            tick = open_ticks.pop((b.checklist, b.item), None)
            if tick is not None:
                dropped |= {tick, e.event_id}

    # A field's earlier values.
    last_edit: dict[str, str] = {}
    for e in events:
        if isinstance(e.body, ev.FieldEdited):
            last_edit[e.body.field] = e.event_id
    dropped |= {
        e.event_id
        for e in events
        if isinstance(e.body, ev.FieldEdited) and last_edit[e.body.field] != e.event_id
    }

    confirmed = {u.copy for u in incident.updates if u.copy and u.undone_at is None}

    out: list[Line] = []
    run_kind = ""  # "fields:<actor>" or "status" while a run of those goes on
    run: list[ev.Event] = []

    def flush() -> None:
        nonlocal run_kind
        if run:
            out.append(_run_line(run_kind, run))
        run.clear()
        run_kind = ""

    for e in events:
        if e.event_id in dropped:
            continue
        b = e.body
        actor = clean(e.actor, max_len=60)
        if isinstance(b, ev.FieldEdited) and b.field not in KEEP_WORDS:
            kind = f"fields:{actor}"
            if run_kind != kind:
                flush()
                run_kind = kind
            run.append(e)
            continue
        if isinstance(b, ev.Observed) and b.source == "status":
            if run_kind != "status":
                flush()
                run_kind = "status"
            run.append(e)
            continue
        flush()
        text: str | None
        by = True
        if isinstance(b, ev.EvidenceRecorded):
            by = False
            if b.source == ERRORS_SOURCE:
                text = _errors_line(b)
            elif b.source == DEPLOY_SOURCE:
                text = f"Suspected deploy: {b.summary}" if b.summary else None
            else:
                text = describe(e)
        elif isinstance(b, ev.MessageCopied):
            if e.event_id in confirmed:
                continue  # the update sent says it
            title = titles.get(b.template) or b.template
            text = f"Copied, not confirmed sent: {title}"
        elif isinstance(b, ev.Observed):
            by = False
            text = describe(e)
        else:
            text = describe(e)
        if not text:
            continue
        line = clean(text, max_len=300)
        if by and actor:
            line = f"{line} ({actor})"
        out.append(Line(e.at, line))
    flush()
    return out


def _run_line(kind: str, run: list[ev.Event]) -> Line:
    first = run[0]
    if kind == "status":
        texts = [clean(e.body.text, max_len=200) for e in run if isinstance(e.body, ev.Observed)]
        if len(texts) == 1:
            return Line(first.at, f"Status page: {texts[0]}")
        return Line(first.at, f"Status pages ({len(texts)} changes): " + "; ".join(texts))
    actor = kind.removeprefix("fields:")
    fields = [e.body for e in run if isinstance(e.body, ev.FieldEdited)]
    if len(fields) == 1:
        text = clean(first.body.describe(), max_len=300)
    else:
        names = [ev.FIELDS.get(f.field, clean(f.field, max_len=40)) for f in fields]
        text = "Edited " + ", ".join(names)
    return Line(first.at, f"{text} ({actor})" if actor else text)
