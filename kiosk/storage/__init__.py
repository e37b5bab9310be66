"""The branch database on the SD card: the SQLite store and its outbox, migrations, backups,
integrity checks and restore at start."""
