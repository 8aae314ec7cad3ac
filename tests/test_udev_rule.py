"""The udev rule is generated from the profiles and matches recorders, not other disks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from avledger.config import loader, profiles
from avledger.core.dock.udevrule import label_glob, rule_text
from avledger.errors import ConfigError
from tests.conftest import require_root_tools
from tests.udevtools import attach, detach, ensure_udevd, make_fat_image, settle

SHIPPED = Path(__file__).resolve().parent.parent / "systemd" / "99-avledger.rules"


def _builtin_profiles() -> dict[str, profiles.Profile]:
    cfg = loader.load(environ={"AVLEDGER_HOME": "/nonexistent-avledger-home"})
    cfg.data["profiles"]["dirs"] = [str(loader.BUILTIN_DIR / "profiles")]
    return profiles.load_all(cfg)


def test_shipped_rule_is_generated_from_shipped_profiles() -> None:
    assert SHIPPED.read_text() == rule_text(_builtin_profiles()), (
        "systemd/99-avledger.rules is stale: regenerate it with "
        "'avledger profile udev-rule --out systemd/99-avledger.rules'")


@pytest.mark.parametrize(("expr", "glob"), [("^BWR", "BWR*"), ("^BWR-01$", "BWR-01"),
                                            (r"^CAM\.X", "CAM.X*"), ("^A B", "A B*")])
def test_label_globs(expr: str, glob: str) -> None:
    assert label_glob(expr, "p") == glob


@pytest.mark.parametrize("expr", ["BWR", "^BW[RS]", "^(A|B)", "^A.*B", "^A+"])
def test_label_expressions_udev_cannot_express_are_refused(expr: str) -> None:
    with pytest.raises(ConfigError, match="cannot be expressed as a udev pattern"):
        label_glob(expr, "p")


def _udev_test(dev: str) -> str:
    sysname = Path(dev).name
    out = subprocess.run(["udevadm", "test", "--action=change", f"/sys/class/block/{sysname}"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def test_rule_matches_recorder_and_not_other_disk(tmp_path: Path) -> None:
    require_root_tools("losetup", "mkfs.vfat", "udevadm")
    ensure_udevd()
    rules_dir = Path("/run/udev/rules.d")
    rules_dir.mkdir(parents=True, exist_ok=True)
    installed = rules_dir / "99-avledger-test.rules"
    installed.write_text(SHIPPED.read_text())
    recorder = make_fat_image(tmp_path / "rec.img", "BWR-SIM")
    other = make_fat_image(tmp_path / "usb.img", "HOLIDAY")
    devs: list[str] = []
    try:
        subprocess.run(["udevadm", "control", "--reload"], check=True)
        devs = [attach(recorder), attach(other)]
        settle()
        rec_out, other_out = _udev_test(devs[0]), _udev_test(devs[1])
        want = f"avledger-ingest@{Path(devs[0]).name}.service"
        assert f"SYSTEMD_WANTS={want}" in rec_out, rec_out[-3000:]
        assert "AVLEDGER_PROFILE=generic" in rec_out
        assert "avledger-ingest@" not in other_out and "AVLEDGER_PROFILE" not in other_out
    finally:
        for d in devs:
            detach(d)
        installed.unlink()
        subprocess.run(["udevadm", "control", "--reload"])
