"""Running the ``camsift`` command in tests: the installed script, its result, a clean environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

CAMSIFT = Path(sys.executable).with_name("camsift")


@dataclass(frozen=True)
class CliResult:
    """What a ``camsift`` command did: exit code and output."""

    code: int
    stdout: str
    stderr: str


def clean_environ() -> dict[str, str]:
    """This process's environment without camsift's own variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CAMSIFT_")}
