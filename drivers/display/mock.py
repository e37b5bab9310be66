"""The mock call display (config driver ``mock``): records every screen and frame, with fault switches."""

from __future__ import annotations

from drivers.display.in_memory import InMemoryDisplay


class MockDisplay(InMemoryDisplay):
    """Test double: ``shown`` lists every screen sent, ``frames`` every byte frame."""

    @property
    def lines(self) -> tuple[str, ...]:
        with self._shown_lock:
            return self.shown[-1].lines if self.shown else ()
