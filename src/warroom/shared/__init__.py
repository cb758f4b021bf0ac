"""The shared war room: several consoles on one incident through a PostgreSQL the team already
runs (not the monitored database). No Textual here: the engine returns events and a status, the
UI wires it (see :mod:`warroom.ui.shared`).

- :mod:`warroom.shared.schema`: the shared schema (versioned), ``warroom shared init``.
- :mod:`warroom.shared.room`: the sync engine: the local journal first, then the shared database;
  LISTEN/NOTIFY between consoles; offline and replay; incident ids unique across the team.
"""
