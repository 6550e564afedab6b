"""camsift: sift security-camera footage so people only look at what matters.

The library API; the ``camsift`` command is a thin layer over it.

Example:
    >>> from camsift import scan
    >>> report = scan(["~/footage"])  # doctest: +SKIP
    >>> report.summary()["events"]  # doctest: +SKIP
    {'person': 12}
"""

from camsift.config import Settings, load_config
from camsift.detections import Detections
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.scanner import FileResult, ScanReport, scan
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
