"""Converters from the Dump model: minidump writer, shrink policies (imports as ``dumpkit.converters``)."""
