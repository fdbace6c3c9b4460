"""``python -m dumpkit`` runs the command-line interface."""
from dumpkit.pipeline.cli import run

run()
