"""Ticket printers: the interface, the ESC/POS printer, its status parsing and ticket layout, and
the mock and virtual printers."""
