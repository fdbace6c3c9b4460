"""JSON Schemas of dumpkit documents and their prose contracts (imports as ``dumpkit.schemas``)."""
