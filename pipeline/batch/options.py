"""What ``dumpkit normalize`` was asked to do (:class:`BatchOptions`), whether it can run
(:func:`check`), and the error that says why not (:class:`BatchError`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dumpkit.pipeline.inputs.limits import Limits

if TYPE_CHECKING:
    from dumpkit.symbols.config import SymbolConfig

__all__ = ["BatchError", "BatchOptions", "check"]


@dataclass(frozen=True)
class BatchOptions:
    """What ``dumpkit normalize`` was asked to do."""

    inputs: list[str]
    out: str
    workers: int = 1
    shrink_max_size: int = 0  # > 0: --shrink with this budget
    scheduler_host: str | None = None
    scheduler_port: int = 8082
    limits: Limits = field(default_factory=Limits)
    chunk_size: int = 0
    rescan: bool = False
    quiet: bool = False
    symbols: SymbolConfig | None = None  # symbol sources; None: no symbols


class BatchError(Exception):
    """The batch could not run or did not complete (a usage or environment error)."""


def check(opts: BatchOptions) -> None:
    """Raise :class:`BatchError` for options that cannot run: bad values, inputs missing, an
    output folder that cannot be made or written (the scheduler is asked next:
    ``scheduling.check_scheduler``)."""
    if opts.shrink_max_size and opts.shrink_max_size < 4096:
        raise BatchError("--shrink-max-size must be at least 4K")
    for path in opts.inputs:
        if not os.path.exists(path):
            raise BatchError(f"{path}: no such file or directory")
    if opts.workers < 1 or opts.limits.max_ratio < 1 or opts.limits.max_depth < 1 or opts.chunk_size < 0:
        raise BatchError("--workers, --max-ratio and --max-depth must be at least 1, --chunk-size at least 0")
    try:
        os.makedirs(os.path.join(opts.out, "work", "tmp"), exist_ok=True)
    except OSError as exc:
        raise BatchError(f"{opts.out}: cannot create the output folder: {exc.strerror or exc}") from None
    if not os.access(opts.out, os.W_OK):
        raise BatchError(f"{opts.out}: not writable")
