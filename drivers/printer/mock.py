"""The mock ticket printer (config driver ``mock``): records every ticket, with fault switches."""

from __future__ import annotations

from drivers.printer.in_memory import InMemoryPrinter


class MockPrinter(InMemoryPrinter):
    """Test double: ``printed`` lists every ticket handed out (job and exact bytes)."""

    @property
    def numbers(self) -> list[str]:
        return [p.job.number for p in self.printed]
