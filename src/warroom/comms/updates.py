"""What copying a message and confirming it sent journal: copied is not posted.

Copying a message journals :class:`~warroom.incident.events.MessageCopied`
(:func:`copied_event`) and changes no countdown. The responder confirms it sent with one key
(``u`` internal, ``U`` customer): :func:`confirmation` finds the last copied message of that
audience and gives the ``UpdateSent(audience, text, template, copy=<the copy's event id>)`` that
restarts the countdown (``copy=""`` when nothing was copied: an update posted by other means).
The customer status update (6) is the message the customer countdown asks for.

A resolution message (3, 5) announces what is true only once the incident is resolved: before
that the console asks before copying it, and a confirmation of it is refused (it is never counted
as an update while the incident is open); confirmed after the resolution it changes no countdown
(none runs) and the report keeps its text. The **declaration** counts too: it is the first
internal update, and its "Next Update: [TIME] (15 minutes)" is ``now`` + the cadence, what the
countdown says once it is confirmed sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from warroom.comms.templates import BUILTINS, CUSTOMER_UPDATE
from warroom.incident import events as ev

if TYPE_CHECKING:
    from warroom.comms.templates import TemplateInfo, TemplateSet
    from warroom.incident.state import CopiedMessage, Incident

# The status update each audience's countdown asks for.
STATUS_UPDATES: dict[str, str] = {"internal": "internal_update", "customer": CUSTOMER_UPDATE}


def status_update_key(audience: str) -> str:
    """The key that copies the status update ``audience``'s countdown asks for (``2``, ``6``)."""
    return next(b.key for b in BUILTINS if b.name == STATUS_UPDATES[audience]) or ""


# -- copied, then confirmed sent ----------------------------------------------------------------------


def copied_event(template: TemplateInfo, text: str) -> ev.MessageCopied:
    """The event to journal when ``text`` rendered from ``template`` was copied (never an update)."""
    return ev.MessageCopied(audience=template.audience or "", template=template.name, text=text)


def update_event(template: TemplateInfo, text: str, copy: str = "") -> ev.UpdateSent | None:
    """The event that confirms ``text`` rendered from ``template`` as sent (``copy``: the event id
    of its :class:`~warroom.incident.events.MessageCopied`), or None when this template is not an
    update."""
    if not template.counts_as_update or template.audience is None:
        return None
    return ev.UpdateSent(audience=template.audience, text=text, template=template.name, copy=copy)


@dataclass(frozen=True)
class Confirmation:
    """What ``u`` / ``U`` records: ``body`` (None when refused, and ``refusal`` says why) and the
    copied message it confirms (None: marked sent without a copy)."""

    body: ev.UpdateSent | None
    copied: CopiedMessage | None = None
    refusal: str = ""


def confirmation(incident: Incident, audience: str, templates: TemplateSet) -> Confirmation:
    """The update ``audience``'s key confirms as sent now: the last message of that audience
    copied and not yet confirmed, else an update marked sent without a copy. A resolution message
    is refused while the incident is open; once resolved, only a copy can still be confirmed."""
    confirmed = {u.copy for u in incident.updates if u.undone_at is None and u.copy}
    last = next((c for c in reversed(incident.copies) if c.audience == audience), None)
    if last is not None and last.event_id in confirmed:
        last = None
    info = templates.get(last.template) if last is not None else None
    if last is not None and info is not None and info.resolution and incident.is_open:
        return Confirmation(
            None,
            last,
            f"{info.title} is not an update while the incident is open: not counted as sent.",
        )
    if last is None:
        if not incident.is_open:
            return Confirmation(None, None, "The incident is not open; no update is owed.")
        return Confirmation(ev.UpdateSent(audience, "", "marked sent"))
    return Confirmation(ev.UpdateSent(audience, last.text, last.template, copy=last.event_id), last)


def undo_event(sent: ev.Event) -> ev.UpdateUndone:
    """The event that takes back the journaled ``UpdateSent`` event ``sent`` (the undo action)."""
    body = sent.body
    if not isinstance(body, ev.UpdateSent):
        raise ValueError(f"event {sent.event_id} is a {sent.kind} event, not an update sent")
    return ev.UpdateUndone(event_id=sent.event_id, audience=body.audience)
