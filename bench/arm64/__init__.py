"""The parts of `python -m bench.arm64_run`: an arm64 Debian root run under QEMU user emulation."""
