"""Trusting a ``warroom.toml`` found in the current folder, as direnv trusts an ``.envrc``.

A ``warroom.toml`` is code: its queries run against the production database (read-only, but
they read what they like) and its templates run in the console. One found in whatever repository
the responder happens to stand in is anybody's, so it is used only once its owner said so:
``warroom trust`` records a digest of the file *and of every file it names* (query files, the
templates folder's templates); any change to any of them makes it untrusted again. A file named
explicitly (``--config``, ``$WARROOM_CONFIG``) or kept in the user's own config folder is the
user's choice and needs no trust.

The store is ``trusted.json`` in the user's config folder (0600): ``{"/abs/path/warroom.toml":
"sha256 hex"}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from warroom.files import private_dir, write_private

TRUST_FILE = "trusted.json"
MAX_NAMED_FILES = 500  # files a configuration may name that go into its digest


def store_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path("warroom", appauthor=False) / TRUST_FILE


def digest(config: Path, named: Iterable[Path]) -> str:
    """One digest over the configuration file and the files it names (their paths and bytes)."""
    h = hashlib.sha256()
    h.update(Path(config).read_bytes())
    for i, path in enumerate(sorted({Path(p).resolve() for p in named})):
        if i >= MAX_NAMED_FILES:
            break
        h.update(b"\0" + str(path).encode("utf-8", "surrogateescape") + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"\0unreadable")
    return h.hexdigest()


def _load() -> dict[str, str]:
    try:
        data = json.loads(store_path().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def trusted_digest(config: Path) -> str | None:
    """The digest recorded for ``config`` when it was trusted, or None."""
    return _load().get(str(Path(config).resolve()))


def trust(config: Path, named: Iterable[Path]) -> str:
    """Record ``config`` (and what it names, as they are now) as trusted; returns the digest."""
    value = digest(config, named)
    store = _load()
    store[str(Path(config).resolve())] = value
    path = store_path()
    private_dir(path.parent)
    write_private(path, (json.dumps(store, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return value
