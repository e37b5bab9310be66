"""Offline tools: replay a recorded day through the real engine; the HTML report."""
