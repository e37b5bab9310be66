"""kiosk: the core of the queue-ticket machine (no hardware or Kivy imports)."""

__version__ = "0.1.0"
