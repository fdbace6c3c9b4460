"""luigi targets for the batch, with their temporary files in the work area's ``tmp/``.

A luigi ``LocalTarget`` already writes through a temporary file, but puts it beside the
final file (``x.json-luigi-tmp-123``), where a run killed at the wrong moment leaves it for
anyone listing the folder to see. :class:`BatchTarget` keeps it in ``tmp/`` instead (same
file system, so the final rename stays atomic); see :mod:`dumpkit.pipeline.atomic`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

from dumpkit.pipeline.atomic import tmp_name
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.batch.luigi_lib import luigi

__all__ = ["BatchTarget", "chunk_done"]


class _TmpDirFile(luigi.target.AtomicLocalFile):
    """Written under ``tmp_dir``, renamed onto ``path`` on a clean close."""

    def __init__(self, path: str, tmp_dir: str) -> None:
        self._tmp_dir = tmp_dir
        super().__init__(path)

    def generate_tmp_path(self, path: str) -> str:
        return tmp_name(self._tmp_dir, path)

    def move_to_final_destination(self) -> None:
        os.replace(self.tmp_path, self.path)


class BatchTarget(luigi.LocalTarget):
    """A local file target whose temporary files live in ``tmp_dir``."""

    def __init__(self, path: str, tmp_dir: str, format: Any = None) -> None:
        super().__init__(path, format=format)
        self.tmp_dir = tmp_dir

    def open(self, mode: str = "r") -> Any:
        if mode.replace("b", "").replace("t", "") == "w":
            self.makedirs()
            return self.format.pipe_writer(_TmpDirFile(self.path, self.tmp_dir))
        return super().open(mode)

    @contextlib.contextmanager
    def temporary_path(self) -> Iterator[str]:
        """A fresh path in ``tmp_dir`` (for a file or a directory), renamed onto the target
        when the block ends without an exception."""
        self.makedirs()
        tmp = tmp_name(self.tmp_dir, self.path)
        os.unlink(tmp)
        try:
            yield tmp
            try:
                os.rename(tmp, self.path)
            except OSError:
                if not os.path.isdir(self.path):  # another worker finished it first: keep theirs
                    raise
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
            elif os.path.exists(tmp):
                os.unlink(tmp)


def chunk_done(layout: Layout, batch: str, run_key: str, index: int) -> BatchTarget:
    """The marker of chunk ``index`` (:func:`~dumpkit.pipeline.batch.chunk.make_chunk` writes
    it, atomically, once the chunk's part is written)."""
    return BatchTarget(layout.done(batch, run_key, index), layout.tmp)
