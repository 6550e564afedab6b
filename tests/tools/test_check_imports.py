"""``tools/check_imports.py``: import cycles among the camsift modules fail the build, listed one per line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_imports.py"
TYPE_CHECKING = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"


def check(src: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *([str(src)] if src else [])], capture_output=True, text=True, check=False
    )


def package(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A ``camsift`` package under ``tmp_path/src`` with ``modules`` (dotted name below camsift -> source)."""
    src = tmp_path / "src"
    for name, code in {"__init__": "", **modules}.items():
        path = src / "camsift" / Path(*name.split("."))
        path = path / "__init__.py" if name.endswith("pkg") else path.with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return src


def test_the_camsift_modules_import_no_cycle() -> None:
    done = check()

    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("no import cycles among the ")


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    src = package(
        tmp_path,
        {
            "a": "from camsift import b\n",
            "b": "def later():\n    from camsift.a import thing\n",
            "c": f"{TYPE_CHECKING}    import camsift.a\n",
            "d": "import camsift.c\nimport os\n",
            "pkg": "from . import inner\n",
            "pkg.inner": "from ..pkg import helper\nfrom .. import d\n",
        },
    )

    done = check(src)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "import cycle: camsift.a -> camsift.b -> camsift.a",
        "  camsift.a -> camsift.b (line 1)",
        "  camsift.b -> camsift.a (line 2)",
        "import cycle: camsift.pkg -> camsift.pkg.inner -> camsift.pkg",
        "  camsift.pkg -> camsift.pkg.inner (line 1)",
        "  camsift.pkg.inner -> camsift.pkg (line 1)",
    ]
    assert "2 import cycle(s)" in done.stderr


def test_no_cycle_passes(tmp_path: Path) -> None:
    src = package(
        tmp_path,
        {
            "a": f"from camsift import b\n{TYPE_CHECKING}    from camsift.c import C\n",
            "b": "import camsift.errors\n",
            "c": "from camsift.a import thing\n",
            "errors": "",
        },
    )

    done = check(src)

    assert (done.returncode, done.stdout) == (0, "no import cycles among the 5 camsift modules\n")
