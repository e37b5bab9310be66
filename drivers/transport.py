"""Byte transports for ESC/POS printers: open, write, read with a timeout, close.

Thin on purpose (python-escpos builds the bytes): serial (pyserial), TCP (port 9100), a
device file such as ``/dev/usb/lp0``, and USB through ``escpos.printer.Usb`` (needs pyusb).
Every failure to reach the device raises :class:`~drivers.base.DeviceUnavailable`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import os
import select
import termios
import socket
import time
from typing import Optional

from drivers.base import DeviceConfigError, DeviceUnavailable
from drivers.printer.escpos_cache import prepare as prepare_escpos


class Transport(ABC):
    """Interface: a byte pipe to a device."""

    name = "transport"

    @property
    @abstractmethod
    def is_open(self) -> bool:
        ...

    @abstractmethod
    def open(self) -> None:
        ...

    @abstractmethod
    def write(self, data: bytes) -> None:
        ...

    def read(self, n: int, timeout_s: float) -> bytes:
        """Up to ``n`` bytes, returning as soon as ``n`` arrived or ``timeout_s`` passed."""
        return b""

    def discard_input(self) -> None:
        pass

    @abstractmethod
    def close(self) -> None:
        ...

    @property
    def can_read(self) -> bool:
        return True


class SerialTransport(Transport):
    """A serial port (``/dev/ttyUSB0``, ``/dev/serial0``, a pty in tests)."""

    def __init__(self, port: str, baudrate: int = 9600, *, bytesize: int = 8, parity: str = "N",
                 stopbits: float = 1, rtscts: bool = False, xonxoff: bool = False,
                 write_timeout_s: float = 5.0) -> None:
        self.port, self.name = port, port
        self.settings = dict(baudrate=baudrate, bytesize=bytesize, parity=parity,
                             stopbits=stopbits, rtscts=rtscts, xonxoff=xonxoff)
        self.write_timeout_s = write_timeout_s
        self._ser = None

    @property
    def is_open(self) -> bool:
        return self._ser is not None and self._ser.is_open

    def open(self) -> None:
        import serial

        if self.is_open:
            return
        try:
            self._ser = serial.Serial(self.port, timeout=0.5, write_timeout=self.write_timeout_s,
                                      exclusive=True, **self.settings)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._ser = None
            raise DeviceUnavailable(f"cannot open {self.port}: {exc}") from exc

    def write(self, data: bytes) -> None:
        import serial

        if not self.is_open:
            raise DeviceUnavailable(f"{self.port} is not open")
        try:
            self._ser.write(data)
            self._ser.flush()
        except (serial.SerialException, OSError, termios.error) as exc:
            self.close()
            raise DeviceUnavailable(f"write to {self.port} failed: {exc}") from exc

    def read(self, n: int, timeout_s: float) -> bytes:
        import serial

        if not self.is_open:
            raise DeviceUnavailable(f"{self.port} is not open")
        try:
            self._ser.timeout = timeout_s
            return self._ser.read(n)
        except (serial.SerialException, OSError, termios.error) as exc:
            self.close()
            raise DeviceUnavailable(f"read from {self.port} failed: {exc}") from exc

    def discard_input(self) -> None:
        if self.is_open:
            try:
                self._ser.reset_input_buffer()
            except (OSError, termios.error):
                pass

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except OSError:
                pass


class SocketTransport(Transport):
    """A network printer (raw TCP, usually port 9100)."""

    def __init__(self, host: str, port: int = 9100, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.name = f"{host}:{port}"
        self._sock: Optional[socket.socket] = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise DeviceUnavailable(f"cannot connect to {self.name}: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise DeviceUnavailable(f"{self.name} is not connected")
        try:
            self._sock.settimeout(self.timeout_s)
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            raise DeviceUnavailable(f"send to {self.name} failed: {exc}") from exc

    def read(self, n: int, timeout_s: float) -> bytes:
        if self._sock is None:
            raise DeviceUnavailable(f"{self.name} is not connected")
        out = b""
        deadline = time.monotonic() + timeout_s
        try:
            while len(out) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._sock.settimeout(left)
                try:
                    chunk = self._sock.recv(n - len(out))
                except socket.timeout:
                    break
                if not chunk:
                    self.close()
                    raise DeviceUnavailable(f"{self.name} closed the connection")
                out += chunk
        except OSError as exc:
            self.close()
            raise DeviceUnavailable(f"receive from {self.name} failed: {exc}") from exc
        return out

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


class FileTransport(Transport):
    """A device file (``/dev/usb/lp0``): written directly; read if the kernel driver allows."""

    def __init__(self, path: str) -> None:
        self.path, self.name = path, path
        self._fd: Optional[int] = None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        if self._fd is not None:
            return
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_NOCTTY)
            except OSError as exc:
                raise DeviceUnavailable(f"cannot open {self.path}: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise DeviceUnavailable(f"{self.path} is not open")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            self.close()
            raise DeviceUnavailable(f"write to {self.path} failed: {exc}") from exc

    def read(self, n: int, timeout_s: float) -> bytes:
        if self._fd is None:
            raise DeviceUnavailable(f"{self.path} is not open")
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout_s)
            return os.read(self._fd, n) if ready else b""
        except OSError:
            return b""  # write-only device: no status

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


class UsbTransport(Transport):
    """A USB printer through ``escpos.printer.Usb`` (requires the optional ``pyusb``)."""

    def __init__(self, vendor_id: int, product_id: int, *,
                 in_ep: Optional[int] = None, out_ep: Optional[int] = None, timeout_ms: int = 5000):
        prepare_escpos()  # before escpos reads its capabilities
        from escpos.printer import Usb

        if not Usb.is_usable():  # fail at start-up, not at the first ticket
            raise DeviceConfigError("escpos-usb needs the pyusb package (pip install pyusb)")
        self.name = f"usb:{vendor_id:04x}:{product_id:04x}"
        self.kwargs = dict(idVendor=vendor_id, idProduct=product_id, timeout=timeout_ms)
        if in_ep is not None:
            self.kwargs["in_ep"] = in_ep
        if out_ep is not None:
            self.kwargs["out_ep"] = out_ep
        self._usb = None

    @property
    def is_open(self) -> bool:
        return self._usb is not None

    def open(self) -> None:
        prepare_escpos()  # before escpos reads its capabilities
        from escpos.printer import Usb

        if self._usb is not None:
            return
        try:
            usb = Usb(profile="TM-T20II", **self.kwargs)
            usb.open(raise_not_found=True)
        except Exception as exc:  # escpos raises its own DeviceNotFoundError / USBError
            raise DeviceUnavailable(f"cannot open {self.name}: {exc}") from exc
        self._usb = usb

    def write(self, data: bytes) -> None:
        if self._usb is None:
            raise DeviceUnavailable(f"{self.name} is not open")
        try:
            self._usb._raw(data)
        except Exception as exc:
            self.close()
            raise DeviceUnavailable(f"write to {self.name} failed: {exc}") from exc

    def read(self, n: int, timeout_s: float) -> bytes:
        if self._usb is None:
            raise DeviceUnavailable(f"{self.name} is not open")
        try:
            return bytes(self._usb._read())[:n]
        except Exception:
            return b""

    def close(self) -> None:
        usb, self._usb = self._usb, None
        if usb is not None:
            try:
                usb.close()
            except Exception:
                pass
