"""The incident domain: events, the state folded from them, and the journal that keeps them.

No I/O here except in :mod:`warroom.incident.journal`, no Textual anywhere, and no wall clock:
every derived value takes ``now`` from the caller.
"""

from warroom.incident.events import Event
from warroom.incident.state import Incident, fold

__all__ = ["Event", "Incident", "fold"]
