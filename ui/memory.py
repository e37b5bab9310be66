"""The UI process's memory: give start-up garbage back to the OS, and measure what is resident
(the first-frame report of `KioskUi` and `bench.ui_startup`). Linux `/proc`; no Kivy here."""
from __future__ import annotations

import math

GL_LIBS = ("libLLVM", "_dri.so", "libgallium", "libGLX_mesa", "libEGL_mesa", "libglapi")


def release_memory() -> None:
    """Give the start-up garbage back to the OS (a Pi Zero 2 W has 512 MB): a full GC, then
    glibc's malloc_trim. Harmless where glibc is missing."""
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def gl_rss_mb() -> float | None:
    """Resident pages of the GL driver's libraries (llvmpipe's LLVM dominates on a PC)."""
    total, current = 0, False
    try:
        with open("/proc/self/smaps") as fh:
            for line in fh:
                head = line.split(None, 6)
                if head and "-" in head[0] and not head[0].endswith(":"):
                    current = len(head) > 5 and any(lib in head[5] for lib in GL_LIBS)
                elif current and head[0] == "Rss:":
                    total += int(head[1])
    except OSError:
        return None
    return round(total / 1024.0, 1)


def rss_mb() -> float:
    """VmRSS of this process in MB (NaN where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return math.nan
