"""The batch, its inputs, the document of one dump, the one CLI (imports as ``dumpkit.pipeline``)."""
