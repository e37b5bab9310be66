"""ext4 disk images from directories (`mkfs.ext4 -d`), and the project disk: the kiosk's code,
compiled, with the guest's configuration, mounted read-only at /opt/kiosk in the guest."""
from __future__ import annotations

import compileall
import shutil
import subprocess
import tempfile
from pathlib import Path

PROJECT_PARTS = ("kiosk", "drivers", "ui", "firmware_config", "pyproject.toml")
GUEST_CONFIG = "kiosk-vm.toml"
# The hall of firmware_config/kiosk.toml (open 24 h, no caps, synchronous=FULL) with a mock
# printer: the load exercises the core, not the rendering of ticket images.
GUEST_HARDWARE = '\n[hardware.printer]\ndriver = "mock"\n'


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def make_ext4(source: Path, image: Path, size_mb: int, label: str) -> Path:
    """Pack ``source`` into a fresh sparse ext4 image of ``size_mb`` MiB."""
    image.unlink(missing_ok=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", str(source), str(image), f"{size_mb}M"],
                   check=True, capture_output=True)
    return image


def project_image(repo: Path, image: Path) -> Path:
    """The repository's code with precompiled bytecode (the guest mounts it read-only) and the
    guest's configuration file `kiosk-vm.toml`."""
    with tempfile.TemporaryDirectory(prefix="kiosk-vm-project-") as tmp:
        stage = Path(tmp) / "opt-kiosk"
        stage.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for part in PROJECT_PARTS:
            src = repo / part
            if src.is_dir():
                shutil.copytree(src, stage / part, ignore=ignore)
            else:
                shutil.copy2(src, stage / part)
        config = (repo / "firmware_config" / "kiosk.toml").read_text()
        (stage / GUEST_CONFIG).write_text(config + GUEST_HARDWARE)
        compileall.compile_dir(str(stage), quiet=1, workers=1)
        size_mb = 32 + 2 * tree_size(stage) // (1 << 20)
        return make_ext4(stage, image, size_mb, "kiosk-code")


def copy_sparse(src: Path, dst: Path) -> Path:
    """A working copy of a (sparse) disk image."""
    subprocess.run(["cp", "--sparse=always", str(src), str(dst)], check=True)
    return dst
