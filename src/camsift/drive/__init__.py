"""The USB-drive mode: a Raspberry Pi pretends to be the Blink Sync Module 2's USB stick.

The design is the Blink Sync Brain's: a Pi with a USB device controller
(Zero 2 W) presents a FAT32 disk image as a USB mass-storage device; the Sync
Module records its motion clips into it (local storage, no cloud); camsift
copies the clips out and analyses them. Roles:

- **storage mode**: the image attached to the gadget (`Gadget.attach`); the
  Sync Module writes. `sync` may read it now, copying only stable clips;
- **server mode**: the image detached (`Gadget.detach`); nothing writes it,
  so it can be read and trimmed safely (`clean`), then attached again.

Modules: `image` (create the image, find its partition), `fat` (read and
delete files with pyfatfs, no mount), `sync` (copy new clips out), `clean`
(storage monitoring and clean-up by the retention rules, per camera:
`retention_days`), `gadget` (configfs or ``g_mass_storage``).

Example:
    >>> create_image(Path("blink.img"), parse_size("32G"))  # doctest: +SKIP
    >>> Gadget(Path("blink.img")).attach()  # doctest: +SKIP
    >>> sync(Path("blink.img"), Path("/srv/blink-inbox")).copied  # doctest: +SKIP
"""

from camsift.drive.clean import CleanReport, clean, retention_days, storage
from camsift.drive.gadget import Gadget, GadgetStatus, Step, attached_image, status
from camsift.drive.image import create_image, parse_size, partition
from camsift.drive.sync import SyncReport, sync

__all__ = [
    "CleanReport",
    "Gadget",
    "GadgetStatus",
    "Step",
    "SyncReport",
    "attached_image",
    "clean",
    "create_image",
    "parse_size",
    "partition",
    "retention_days",
    "status",
    "storage",
    "sync",
]
