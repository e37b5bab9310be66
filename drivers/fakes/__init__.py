"""Fake devices at the far end of a serial cable, behind real pseudo-terminals.

The kiosk's real drivers open a stable symlink to a pty slave, exactly as they open
``/dev/kiosk-printer`` on a Pi; these fakes sit on the master side. ``unplug()`` closes the
pty and removes the link, ``replug()`` makes a new pty behind the same link. The printer
parses ESC/POS and answers ``DLE EOT`` status queries from a state switch (paper out, cover
open, silent); the VFD interprets the Epson customer-display commands into a screen buffer;
the Alpha sign counts M-Protocol frames; the plain :class:`FakePtyDevice` keeps (or drains)
whatever arrives. Used by the driver tests, the hardware-in-the-loop dry run, the benchmarks
and the simulated day (``kiosk simulate-day``): test and simulation equipment, never loaded
by the kiosk itself.
"""
from drivers.fakes.alpha_sign import FakeAlphaSign
from drivers.fakes.escpos_printer import FakeEscposPrinter
from drivers.fakes.pty_device import FakePtyDevice
from drivers.fakes.vfd import FakeVfd

__all__ = ["FakeAlphaSign", "FakeEscposPrinter", "FakePtyDevice", "FakeVfd"]
