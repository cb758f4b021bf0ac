"""The read-only console (``WarroomApp(read_only=True)``), as ``warroom serve`` shows it in a browser.

Every action that would write something (the journal, the clipboard, the outbox, a report, a page,
a post) is refused in one place, :meth:`WarroomApp.run_action`, by its name (:data:`WRITE_ACTIONS`),
with a one-line notice; underneath, the journal is a
:class:`~warroom.incident.readonly.ReadOnlyJournal`, opened read-only, so a write path this list
forgot still writes nothing.
"""

from __future__ import annotations

from typing import Any

from textual.actions import parse

from warroom.settings import Settings

# The name of every action that writes (journal, clipboard, outbox, files, network), whatever its
# namespace (app, screen or pane), and what it is called in the notice that refuses it.
WRITE_ACTIONS: dict[str, str] = {
    # the console (warroom.ui.screens.console.CONSOLE_BINDINGS)
    "note": "adding a note",
    "severity": "changing the severity",
    "next_phase": "changing the phase",
    "previous_phase": "changing the phase",
    "edit": "editing the incident",
    "mark_update": "marking an update sent",
    "undo_update": "taking back an update",
    "resolve": "resolving the incident",
    "copy_focused": "copying",
    "template": "copying a message",
    "escalate": "recording an escalation",
    "add_action_item": "adding an action item",
    "add_lesson": "adding a lesson",
    "assign_owner": "assigning an owner",
    "assign_action_owner": "assigning an owner",
    "assign_role": "assigning a role",
    "page_on_call": "paging on-call",
    "report": "writing the report",
    "reopen": "reopening the incident",
    "close": "closing the incident",
    "declare_new": "declaring an incident",
    # the panes' own keys
    "tick": "ticking a checklist item",
    "toggle_item": "ticking a checklist item",
    "answer_all_users": "answering the decision tree",
    "copy_command": "copying a command",
    "copy_selected": "copying a message",
    "fill_fields": "filling a message's fields",
    "post_selected": "posting to Slack",
    "publish_selected": "publishing to the status page",
    "copy_revert": "copying git revert",
    "copy_function_rollback": "copying the function rollback",
    "mark_fix": "marking the fix",
    "cancel_backend": "cancelling a backend's query",
    "terminate_backend": "terminating a backend",
    "pause_campaign": "pausing a campaign",
    "restart": "restarting a command",
    # the pick and declare screens
    "new": "declaring an incident",
    "declare": "declaring an incident",
    "save": "saving",
    # Textual's own: the selected text to the clipboard, a screenshot to a file
    "copy_text": "copying",
    "screenshot": "saving a screenshot",
}

READ_ONLY_BADGE = " read-only view "


def action_name(action: Any) -> str:
    """The bare name of an action as :meth:`App.run_action` receives it (``"app.template(1)"``,
    or an already parsed ``(namespace, name, params)``)."""
    if isinstance(action, str):
        return parse(action)[1]
    if isinstance(action, tuple) and len(action) == 3:
        return str(action[1])
    return ""


def refusal(name: str) -> str | None:
    """The notice that refuses ``name`` in the read-only view, or None when it only reads."""
    what = WRITE_ACTIONS.get(name)
    return None if what is None else f"read-only view: {what} is not available"


def run_view(settings: Settings, incident_id: str) -> int:
    """One browser session of ``warroom serve``: the console on ``incident_id``, read-only, on the
    driver Textual was given (textual-serve's web driver). Returns the exit status."""
    from warroom.ui.app import WarroomApp

    app = WarroomApp(settings, incident_id=incident_id, read_only=True, watch_terminal=False)
    try:
        result = app.run()
    finally:
        app.journal.close()
    return int(result if isinstance(result, int) else (app.return_code or 0))
