"""Run gymdesk with ``python -m gymdesk``."""

import sys

from gymdesk.app.cli import main

sys.exit(main())
