"""``import camsift.web`` loads no web framework (``__all__`` of the web modules: tests/test_api.py)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_web_package_is_light() -> None:
    heavy = "{'fastapi', 'uvicorn', 'jinja2'}"
    code = f"import sys, camsift.web, camsift.camera_overrides; print(sorted({heavy} & sys.modules.keys()))"

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"
