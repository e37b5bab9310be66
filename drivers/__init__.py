"""Hardware abstraction: small device interfaces with real, virtual and mock implementations.

Nothing here imports ``kiosk``. Start with :func:`drivers.factory.build_hardware` (or
``kiosk.app.hardware.build_devices`` in the kiosk); the data handed to devices is in
:mod:`drivers.jobs`; faults are described in :mod:`drivers.base`. Heavy dependencies
(python-escpos, Pillow, pyserial, gpiozero) are imported only when a device needs them.
"""

from drivers.base import (RECOVERED, DeviceConfigError, DeviceError, DeviceFaultError, DeviceState,
                   DeviceTimeout, DeviceUnavailable, FaultKind, FaultListener)
from drivers.jobs import CallInfo, InputEvent, PrintResult, TicketPrintJob

__all__ = [
    "RECOVERED", "CallInfo", "DeviceConfigError", "DeviceError", "DeviceFaultError", "DeviceState",
    "DeviceTimeout", "DeviceUnavailable", "FaultKind", "FaultListener", "InputEvent", "PrintResult",
    "TicketPrintJob",
]
