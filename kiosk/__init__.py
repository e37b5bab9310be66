"""kiosk: the controller of a queue-ticket machine and the HQ side that watches every branch.

The packages and the arrows between them: docs/architecture.md (checked by import-linter).
"""

__version__ = "0.1.0"
