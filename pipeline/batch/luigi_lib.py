"""luigi, as the batch modules import it: ``from dumpkit.pipeline.batch.luigi_lib import luigi``.

As it loads, ``luigi.parameter`` imports ``jsonschema`` if it can, to check the values of a
``DictParameter`` or ``ListParameter`` given a ``schema=``. dumpkit's parameters have none,
and that import is ~60 ms of CPU in every process that loads luigi (the scheduling one, the
pool's fork server: both on the way to the first chunk). So here luigi loads with that probe
answered "not installed" (:func:`dumpkit.pipeline.probes.hidden`); ``jsonschema`` itself stays
importable (dumpkit's reference validator), and where it was loaded before luigi, luigi
finds it as usual. A parameter given a ``schema=`` would make luigi warn that it cannot check
it.

luigi also warns, as it loads, that it will stop loading its range tasks by default unless
``luigi.cfg`` says ``autoload_range``: addressed to whoever writes that file, not to a user
of ``dumpkit normalize``, and the same either way for dumpkit's tasks, so it is not shown.
"""
from __future__ import annotations

import sys
import warnings

from dumpkit.pipeline.probes import hidden

__all__ = ["luigi"]

if "luigi" not in sys.modules:
    with hidden("jsonschema"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "\\s*Autoloading range tasks", DeprecationWarning)
        import luigi
import luigi
