"""Parsers generated from ksy/ by tools/compile-ksy. Do not edit."""
