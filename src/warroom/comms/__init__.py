"""Comms: message templates filled with live facts, the clipboard, the post-incident report.

No Textual here. The UI calls, per preview or copy:

- :func:`warroom.comms.context.build_context` (incident, settings, live facts, now) -> MessageContext
- :class:`warroom.comms.templates.TemplateSet` ``.messages()`` / ``.render(name, ctx)``
- :class:`warroom.comms.clipboard.Clipboard` ``.copy(text, incident_id=..., name=...)``
- :func:`warroom.comms.updates.copied_event`, ``update_event`` / ``undo_event`` for the journal
- :func:`warroom.comms.report.build_report` for ``warroom report`` and the report key
"""
