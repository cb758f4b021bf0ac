"""Where the files shipped beside the code live at run time (``themes/``, ``templates/``).

In an installed wheel they are inside the package (``warroom/themes``, ``warroom/templates``,
put there by pyproject's force-include); in a source checkout they are the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The folder ``name`` ("themes" or "templates") as shipped with this copy of warroom."""
    inside = _PACKAGE / name
    if inside.is_dir():
        return inside
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    return inside  # missing: callers report the folder they looked in
