"""Batch side of dumpkit: normalize, validate, luigi tasks, reports, CLI."""
