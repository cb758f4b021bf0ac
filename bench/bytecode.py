"""Run the console as an installed copy runs: from compiled bytecode.

``pip install warroom`` compiles every module to ``__pycache__`` when it installs; a checkout
installed in development mode (``pip install -e``) compiles them on first import, unless
``PYTHONDONTWRITEBYTECODE`` is set (as on the machines here): then every start compiles all of
warroom's sources again, about 0.2 s that no user pays (measured on 2026-12-01: importing the
console took 0.75 s from source, 0.55 s from bytecode). Benchmarks that start the console call
:func:`compile_warroom` first, and compare it with pg_activity and Textual, which pip compiled.
"""

from __future__ import annotations

import compileall
from pathlib import Path


def compile_warroom(package: Path | None = None) -> Path:
    """Compile the warroom package's modules (``package``, default the one imported here) to
    bytecode (kept in its ``__pycache__`` folders, ignored by git); return the package's folder."""
    if package is None:
        import warroom

        package = Path(warroom.__file__).resolve().parent
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"could not compile {package} to bytecode")
    return package
