"""``python -m pipeline`` is the newsmon command."""

import sys

from pipeline.cli import main

sys.exit(main())
