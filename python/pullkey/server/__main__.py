"""``python -m pullkey.server`` = ``pullkey serve``."""

import sys

from pullkey.server.cli import main

sys.exit(main())
