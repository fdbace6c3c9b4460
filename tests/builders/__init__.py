"""Synthetic dump builders for tests.

Each builder writes its format with :mod:`struct` straight from the facts in
``docs/formats.md`` and shares nothing with ``ksy/`` or ``dumpkit/`` (docs/practices.md §9),
so a layout mistake in the code under test cannot hide behind the same mistake here.
"""
