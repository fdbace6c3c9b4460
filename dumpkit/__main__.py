"""``python -m dumpkit`` runs the command-line interface."""
import sys

from dumpkit.pipeline.cli import main

sys.exit(main())
