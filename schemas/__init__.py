"""JSON Schemas of dumpkit documents (package data: *.json)."""
