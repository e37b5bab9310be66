"""`python -m kiosk …` is the `kiosk` command."""
import sys

from .cli import main

sys.exit(main())
