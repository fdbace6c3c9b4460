"""Coverage-guided fuzz targets (atheris) for the four dump families; see ``tests/fuzz/README.md``."""
