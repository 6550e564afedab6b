"""`camsift.drive.gadget`: the exact commands of attach/detach, the missing-controller error, and status,
on a fake sysfs tree (this machine has no USB device controller; a Pi is needed for the real thing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from camsift.drive import Gadget, attached_image, status
from camsift.errors import DriveError

G = "/sys/kernel/config/usb_gadget/camsift"


def test_configfs_attach_commands(tmp_path: Path) -> None:
    image = tmp_path / "blink.img"
    lines = Gadget(image, udc="fe980000.usb").attach(dry_run=True)
    assert lines[0] == "modprobe libcomposite"
    assert lines[1] == f"mkdir -p {G}"
    assert f"echo 0x1d6b > {G}/idVendor" in lines
    assert f"echo 0x0104 > {G}/idProduct" in lines
    assert f"echo {image} > {G}/functions/mass_storage.usb0/lun.0/file" in lines
    assert f"echo 1 > {G}/functions/mass_storage.usb0/lun.0/removable" in lines
    assert f"echo 0 > {G}/functions/mass_storage.usb0/lun.0/ro" in lines
    assert f"ln -s {G}/functions/mass_storage.usb0 {G}/configs/c.1/mass_storage.usb0" in lines
    assert lines[-1] == f"echo fe980000.usb > {G}/UDC"  # bound last: the host sees a finished device


def test_without_a_controller_the_dry_run_leaves_the_choice_to_the_pi(tmp_path: Path) -> None:
    lines = Gadget(tmp_path / "b.img", sys_root=tmp_path / "sys").attach(dry_run=True)
    assert lines[-1] == f'echo "$(ls /sys/class/udc | head -n 1)" > {tmp_path}/sys/kernel/config/usb_gadget/camsift/UDC'


def test_read_only_and_module_mode(tmp_path: Path) -> None:
    image = tmp_path / "blink.img"
    assert Gadget(image, mode="module", read_only=True).attach(dry_run=True) == [
        f"modprobe g_mass_storage file={image} removable=1 ro=1 stall=0"
    ]
    assert Gadget(image, mode="module").detach(dry_run=True) == ["modprobe -r g_mass_storage"]


def test_configfs_detach_commands(tmp_path: Path) -> None:
    lines = Gadget(tmp_path / "b.img").detach(dry_run=True)
    assert lines[0] == f'echo "" > {G}/UDC'  # unbind first: the Sync Module sees the stick pulled out
    assert lines[1] == f"rm {G}/configs/c.1/mass_storage.usb0"
    assert lines[-1] == f"rmdir {G}"


def test_no_controller_is_a_clear_error(tmp_path: Path) -> None:
    image = tmp_path / "blink.img"
    image.write_bytes(b"")
    with pytest.raises(DriveError, match=r"no USB device controller \(/sys/class/udc is empty\).*dtoverlay=dwc2"):
        Gadget(image, sys_root=tmp_path / "sys").attach()
    with pytest.raises(DriveError, match="no such image"):
        Gadget(tmp_path / "missing.img", sys_root=tmp_path / "sys").attach()


@pytest.fixture
def fake_sys(tmp_path: Path) -> Path:
    """A sysfs tree with one controller (a Pi Zero's dwc2) and configfs with libcomposite loaded."""
    sys_root = tmp_path / "sys"
    (sys_root / "class" / "udc" / "3f980000.usb").mkdir(parents=True)
    (sys_root / "class" / "udc" / "3f980000.usb" / "state").write_text("configured\n")
    (sys_root / "kernel" / "config" / "usb_gadget").mkdir(parents=True)
    return sys_root


def test_attach_on_a_fake_sysfs_then_status(tmp_path: Path, fake_sys: Path) -> None:
    image = tmp_path / "blink.img"
    image.write_bytes(b"")
    assert status(fake_sys).mode is None
    Gadget(image, sys_root=fake_sys).attach()
    g = fake_sys / "kernel" / "config" / "usb_gadget" / "camsift"
    assert (g / "UDC").read_text() == "3f980000.usb\n"
    assert (g / "configs" / "c.1" / "mass_storage.usb0").is_symlink()
    now = status(fake_sys)
    assert (now.mode, now.image, now.udc, now.host) == ("configfs", image.resolve(), "3f980000.usb", "configured")
    assert attached_image(fake_sys) == image.resolve()
    with pytest.raises(DriveError, match="already presents"):
        Gadget(image, sys_root=fake_sys).attach()
    with pytest.raises(DriveError, match=r"not .*other\.img"):
        Gadget(tmp_path / "other.img", sys_root=fake_sys).detach()
    (g / "UDC").write_text("\n")  # unbound: no host sees it any more
    assert attached_image(fake_sys) is None


def test_an_image_this_user_cannot_write_is_refused(
    tmp_path: Path, fake_sys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel would open it read-only without a word: the Sync Module could not record."""
    image = tmp_path / "blink.img"
    image.write_bytes(b"")
    image.chmod(0o440)
    real_access = os.access  # root may write anything: ask what the camsift group (or a sandboxed root) could do
    monkeypatch.setattr(
        os, "access", lambda p, mode: not (mode & os.W_OK and Path(p) == image) and real_access(p, mode)
    )
    with pytest.raises(DriveError, match=r"blink\.img: not writable by this user.*read-only stick.*mode 660"):
        Gadget(image, sys_root=fake_sys).attach()
    assert not (fake_sys / "kernel" / "config" / "usb_gadget" / "camsift").exists()
    Gadget(image, sys_root=fake_sys, read_only=True).attach()  # a read-only stick was asked for
    assert status(fake_sys).image == image.resolve()
