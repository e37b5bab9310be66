"""Who may do what at the kiosk: the admin PIN (hashes, a lockout that survives restarts)."""
