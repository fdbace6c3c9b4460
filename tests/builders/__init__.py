"""Synthetic dump builders for tests.

Each builder writes its format with :mod:`struct` straight from the facts in
``/work/shared/FORMATS.md`` and shares nothing with ``ksy/`` or ``dumpkit/`` (STYLE.md §9),
so a layout mistake in the code under test cannot hide behind the same mistake here.
"""
