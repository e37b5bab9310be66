"""A message HQ refuses: a machine-readable code and a message that names the field."""
from __future__ import annotations


class Rejected(ValueError):
    """A branch message that failed the boundary. `code` (e.g. ``bad_type``) is what the
    branch's rejection counts are keyed by; `field` is the dotted path of the culprit (None for
    the payload as a whole); `message` says what is wrong."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.detail = message
        self.field = field

    def within(self, part: str | int) -> Rejected:
        """The same rejection, one level further out (``services[0]`` + ``waiting``)."""
        if isinstance(part, int):
            self.field = f"[{part}]" + ("" if self.field is None else ("" if self.field.startswith("[") else ".")
                                        + self.field)
        else:
            self.field = part if self.field is None else (f"{part}{self.field}" if self.field.startswith("[")
                                                          else f"{part}.{self.field}")
        return self

    @property
    def message(self) -> str:
        return f"field {self.field!r}: {self.detail}" if self.field else self.detail

    def __str__(self) -> str:
        return self.message
