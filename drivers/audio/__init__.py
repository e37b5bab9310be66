"""Announcements: the chime and the call spoken in each language (voice packs or espeak-ng)."""
