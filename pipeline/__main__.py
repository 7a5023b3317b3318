"""``python -m pipeline`` is the newsmon command."""

import sys

from pipeline.cli.main import main

sys.exit(main())
