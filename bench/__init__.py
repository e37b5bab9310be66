"""Benchmarks: run each with `python -m bench.NAME`; one JSON object per figure."""
