"""Who to reach at each level of the playbook's escalation path: ``[escalation] l1`` ... ``l4``,
shown beside the escalation timer (the current level's and the next one's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from warroom.settings.keys import Text, key, line

CONTACT_MAX = 120  # characters of an escalation contact ("Jane Doe +49 170 1234567, #eng-leads")


def _contact_lines(c: EscalationContacts) -> list[str]:
    return [line(f"contact L{n}", c.contact(n) or "(not configured)") for n in range(1, 5)]


@dataclass(frozen=True)
class EscalationContacts:
    """Who to reach at each level of the playbook's escalation path (shown beside the timer)."""

    l1: str = field(default="", metadata=key(Text(CONTACT_MAX), show=_contact_lines))
    l2: str = field(default="", metadata=key(Text(CONTACT_MAX)))
    l3: str = field(default="", metadata=key(Text(CONTACT_MAX)))
    l4: str = field(default="", metadata=key(Text(CONTACT_MAX)))

    def contact(self, level: int) -> str:
        """Level ``level``'s contact ("" when not configured, or not a level 1-4)."""
        return str(getattr(self, f"l{level}", "")) if 1 <= level <= 4 else ""
