"""``python -m digest`` runs the ``digest`` command."""

import sys

from digest.cli import main

sys.exit(main())
