"""camsift: sift security-camera footage so people only look at what matters.

The library API; the ``camsift`` command is a thin layer over it.

Example:
    >>> from camsift import scan
    >>> report = scan(["~/footage"])  # doctest: +SKIP
    >>> report.summary()["events"]  # doctest: +SKIP
    {'person': 12}

The names below are imported when first used (PEP 562): every scan worker
process imports ``camsift.analysis.file``, which runs this file first, and
eager imports here would load the database layer (SQLAlchemy) into workers
that never touch the database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from camsift.analysis.file import FileResult
    from camsift.config import Settings, load_config
    from camsift.detections import Detections
    from camsift.errors import CamsiftError
    from camsift.events import Event
    from camsift.scanner import ScanReport, scan
    from camsift.store import Store

__all__ = [
    "CamsiftError",
    "Detections",
    "Event",
    "FileResult",
    "ScanReport",
    "Settings",
    "Store",
    "load_config",
    "scan",
]
__version__ = "0.1.0"

_HOME = {
    "CamsiftError": "camsift.errors",
    "Detections": "camsift.detections",
    "Event": "camsift.events",
    "FileResult": "camsift.analysis.file",
    "ScanReport": "camsift.scanner",
    "Settings": "camsift.config",
    "Store": "camsift.store",
    "load_config": "camsift.config",
    "scan": "camsift.scanner",
}


def __getattr__(name: str) -> object:
    """The public name ``name``, imported from its module on first use.

    Raises:
        AttributeError: ``name`` is not part of the API.
    """
    if name not in _HOME:
        raise AttributeError(f"module 'camsift' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
