"""The `kiosk` command: argparse only, one module per command group."""
