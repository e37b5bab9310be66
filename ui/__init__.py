"""Kivy screens of the kiosk."""
