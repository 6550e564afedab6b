"""Present a disk image as a USB stick through the Linux USB gadget, or withdraw it.

Two ways, both in the kernel's documentation (Documentation/usb/gadget_configfs
and mass-storage): the **configfs** composite gadget (``libcomposite``: a
gadget folder under ``/sys/kernel/config/usb_gadget/`` with a
``mass_storage`` function whose ``lun.0/file`` is the image, bound to the
USB device controller by writing its name to ``UDC``), or the legacy
``g_mass_storage`` module (``modprobe g_mass_storage file=IMAGE removable=1``).
The IDs are the Linux Foundation's (0x1d6b) "multifunction composite gadget"
(0x0104), as the Raspberry Pi gadget guides and the Blink Sync Brain use.

Only a machine with a USB device controller can do this: a Raspberry Pi Zero
2 W (or 4/5 on its USB-C port) with ``dtoverlay=dwc2`` in
``/boot/firmware/config.txt`` and ``dwc2`` in ``/etc/modules``. Elsewhere
``/sys/class/udc`` is empty and `attach` says so. Every step is a `Step`, so
``--dry-run`` prints exactly the shell commands that `attach` and `detach` carry out.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from camsift.errors import DriveError

__all__ = ["Gadget", "GadgetStatus", "Mode", "Step", "attached_image"]

Mode = Literal["configfs", "module"]

GADGET_NAME = "camsift"
_FUNCTION = "mass_storage.usb0"
_NO_UDC = (
    "no USB device controller (/sys/class/udc is empty): this machine cannot act as a USB drive. On a "
    "Raspberry Pi Zero 2 W add 'dtoverlay=dwc2' to /boot/firmware/config.txt and 'dwc2' to /etc/modules, reboot, "
    "and plug the Pi's USB data port (not PWR) into the Sync Module"
)


@dataclass(frozen=True)
class Step:
    """One action on sysfs or one command.

    Attributes:
        kind: ``mkdir``, ``write`` (``value`` into ``path``), ``symlink`` (``path`` -> ``value``), ``unlink``,
            ``rmdir`` or ``run`` (``argv``).
        path: The file or folder.
        value: What is written, or the link target.
        argv: The command of a ``run`` step.
        shell_value: Shell text printed instead of ``value`` (a value only known on the Pi).
        unless: The step is skipped when this path exists (a module already loaded).
    """

    kind: Literal["mkdir", "write", "symlink", "unlink", "rmdir", "run"]
    path: Path | None = None
    value: str = ""
    argv: tuple[str, ...] = ()
    shell_value: str | None = None
    unless: Path | None = None

    def shell(self) -> str:
        """The shell command that does this step."""
        p = shlex.quote(str(self.path))
        match self.kind:
            case "mkdir":
                return f"mkdir -p {p}"
            case "write":
                return f"echo {self.shell_value or shlex.quote(self.value)} > {p}"
            case "symlink":
                return f"ln -s {shlex.quote(self.value)} {p}"
            case "unlink":
                return f"rm {p}"
            case "rmdir":
                return f"rmdir {p}"
            case _:
                return shlex.join(self.argv)

    def apply(self) -> None:
        """Do it.

        Raises:
            DriveError: it failed (names the step and the reason).
        """
        if self.unless is not None and self.unless.exists():
            return
        try:
            if self.kind == "run":
                subprocess.run(self.argv, check=True, capture_output=True, text=True, timeout=60)
                return
            assert self.path is not None
            if self.kind == "mkdir":
                self.path.mkdir(parents=True, exist_ok=True)
            elif self.kind == "write":
                self.path.write_text(self.value + "\n")
            elif self.kind == "symlink":
                if not self.path.is_symlink():
                    self.path.symlink_to(self.value)
            elif self.kind == "unlink":
                if self.path.is_symlink():
                    self.path.unlink()
            elif self.path.is_dir():
                self.path.rmdir()
        except subprocess.CalledProcessError as err:
            raise DriveError(f"'{self.shell()}' failed: {(err.stderr or '').strip() or err.returncode}") from err
        except (OSError, subprocess.SubprocessError) as err:
            raise DriveError(f"'{self.shell()}' failed: {getattr(err, 'strerror', None) or err}") from err


@dataclass(frozen=True)
class GadgetStatus:
    """What the USB gadget presents now.

    Attributes:
        mode: ``configfs`` or ``module`` when a camsift gadget is set up, else ``None``.
        image: The image it presents (``None``: none).
        udc: The USB device controller it is bound to (``None``: unbound, the host sees nothing).
        host: The controller's state (``configured`` once a USB host, the Sync Module, has taken the
            drive; ``not attached`` with no cable …), ``None`` when unknown.
        controllers: USB device controllers of this machine (empty: it cannot be a USB drive).
    """

    mode: Mode | None
    image: Path | None
    udc: str | None
    host: str | None
    controllers: tuple[str, ...]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip().rstrip("\x00") or None
    except OSError:
        return None


def controllers(sys_root: Path = Path("/sys")) -> tuple[str, ...]:
    """Names of this machine's USB device controllers (``/sys/class/udc``)."""
    folder = sys_root / "class" / "udc"
    return tuple(sorted(p.name for p in folder.iterdir())) if folder.is_dir() else ()


def status(sys_root: Path = Path("/sys")) -> GadgetStatus:
    """What the gadget presents now (configfs gadget ``camsift``, or the ``g_mass_storage`` module)."""
    udcs = controllers(sys_root)
    gadget = sys_root / "kernel" / "config" / "usb_gadget" / GADGET_NAME
    module = sys_root / "module" / "g_mass_storage"
    mode: Mode | None = None
    image = udc = None
    if gadget.is_dir():
        mode = "configfs"
        image = _read(gadget / "functions" / _FUNCTION / "lun.0" / "file")
        udc = _read(gadget / "UDC")
    elif module.is_dir():
        mode = "module"
        image = _read(module / "parameters" / "file")
        udc = udcs[0] if udcs else None
    host = _read(sys_root / "class" / "udc" / udc / "state") if udc else None
    return GadgetStatus(mode, Path(image) if image else None, udc, host, udcs)


def attached_image(sys_root: Path = Path("/sys")) -> Path | None:
    """The image a USB host can see now (bound to a controller), else ``None``."""
    now = status(sys_root)
    return now.image if now.image is not None and (now.udc or now.mode == "module") else None


class Gadget:
    """The USB mass-storage gadget that presents one image.

    Args:
        image: The disk image.
        mode: ``configfs`` (default) or ``module`` (``g_mass_storage``).
        udc: USB device controller to bind (default: the first of ``/sys/class/udc``).
        read_only: Present the drive read-only (the Sync Module then cannot record to it).
        sys_root: Where sysfs is (tests use a fake tree).

    Example:
        >>> for line in Gadget(Path("/var/lib/camsift-drive/blink.img")).attach(dry_run=True):  # doctest: +SKIP
        ...     print(line)
    """

    def __init__(
        self,
        image: Path,
        *,
        mode: Mode = "configfs",
        udc: str | None = None,
        read_only: bool = False,
        sys_root: Path = Path("/sys"),
    ) -> None:
        self.image = image.resolve()
        self.mode = mode
        self.udc = udc
        self.read_only = read_only
        self.sys_root = sys_root
        self.root = sys_root / "kernel" / "config" / "usb_gadget" / GADGET_NAME

    def attach_steps(self) -> list[Step]:
        """The steps that present the image (see the module docstring)."""
        ro = "1" if self.read_only else "0"
        if self.mode == "module":
            argv = ("modprobe", "g_mass_storage", f"file={self.image}", "removable=1", f"ro={ro}", "stall=0")
            return [Step("run", argv=argv)]
        g, lun = self.root, self.root / "functions" / _FUNCTION / "lun.0"
        udcs = controllers(self.sys_root)
        udc = self.udc or (udcs[0] if udcs else "")
        strings, config = g / "strings" / "0x409", g / "configs" / "c.1"
        return [
            Step("run", argv=("modprobe", "libcomposite"), unless=g.parent),
            Step("mkdir", g),
            Step("write", g / "idVendor", "0x1d6b"),  # Linux Foundation
            Step("write", g / "idProduct", "0x0104"),  # multifunction composite gadget
            Step("write", g / "bcdDevice", "0x0100"),
            Step("write", g / "bcdUSB", "0x0200"),
            Step("mkdir", strings),
            Step("write", strings / "manufacturer", "camsift"),
            Step("write", strings / "product", "camsift USB drive"),
            Step("write", strings / "serialnumber", "camsift0001"),
            Step("mkdir", config / "strings" / "0x409"),
            Step("write", config / "strings" / "0x409" / "configuration", "mass storage"),
            Step("write", config / "MaxPower", "250"),
            Step("mkdir", lun),
            Step("write", lun.parent / "stall", "0"),
            Step("write", lun / "removable", "1"),
            Step("write", lun / "cdrom", "0"),
            Step("write", lun / "ro", ro),
            Step("write", lun / "file", str(self.image)),
            Step("symlink", config / _FUNCTION, str(lun.parent)),
            Step("write", g / "UDC", udc, shell_value=None if udc else '"$(ls /sys/class/udc | head -n 1)"'),
        ]

    def detach_steps(self) -> list[Step]:
        """The steps that withdraw the image: unbind (the host sees the stick pulled out), then take the gadget down."""
        if self.mode == "module":
            return [Step("run", argv=("modprobe", "-r", "g_mass_storage"))]
        g, config = self.root, self.root / "configs" / "c.1"
        return [
            Step("write", g / "UDC", "", shell_value='""'),
            Step("unlink", config / _FUNCTION),
            Step("rmdir", config / "strings" / "0x409"),
            Step("rmdir", config),
            Step("rmdir", g / "functions" / _FUNCTION),
            Step("rmdir", g / "strings" / "0x409"),
            Step("rmdir", g),
        ]

    def attach(self, *, dry_run: bool = False) -> list[str]:
        """Present the image; returns the shell commands (only returned on a dry run).

        Raises:
            DriveError: no USB device controller, not allowed (needs root), no such image, an image this user
                cannot write (unless ``read_only``), a step failed.
        """
        steps = self.attach_steps()
        if not dry_run:
            if not self.image.is_file():
                raise DriveError(f"{self.image}: no such image file (make one with 'camsift drive create')")
            if not self.read_only and not os.access(self.image, os.R_OK | os.W_OK):
                # The kernel would open it read-only without a word: the Sync Module could not record.
                raise DriveError(
                    f"{self.image}: not writable by this user: the Sync Module would see a read-only stick "
                    "(make it group camsift, mode 660, as deploy/systemd/camsift-drive.service says)"
                )
            if not controllers(self.sys_root):
                raise DriveError(_NO_UDC)
            self._check_writable()
            attached = attached_image(self.sys_root)
            if attached is not None:
                raise DriveError(f"the USB gadget already presents {attached}: 'camsift drive detach' first")
            for step in steps:
                step.apply()
        return [s.shell() for s in steps]

    def detach(self, *, dry_run: bool = False) -> list[str]:
        """Withdraw the image (nothing to do when nothing is attached); returns the shell commands.

        Raises:
            DriveError: another image is attached, not allowed (needs root), a step failed.
        """
        steps = self.detach_steps()
        now = status(self.sys_root)
        if not dry_run and now.mode is not None:
            if now.image is not None and now.image != self.image:
                raise DriveError(f"the USB gadget presents {now.image}, not {self.image}")
            self._check_writable()
            for step in steps:
                step.apply()
        return [s.shell() for s in steps]

    def _check_writable(self) -> None:
        where = self.sys_root / "kernel" / "config" if self.mode == "configfs" else self.sys_root / "module"
        if where.is_dir() and not os.access(where, os.W_OK):
            raise DriveError(f"{where}: not writable: the USB gadget needs root (run with sudo)")
