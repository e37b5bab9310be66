"""End-to-end proof of the kiosk: a simulated day in the hall with faults, and a week-long soak.

`kiosk simulate-day` (kiosk/cli/simday.py) runs them; tests/sim/ runs a short day in CI.
"""
