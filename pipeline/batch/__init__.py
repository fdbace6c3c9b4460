"""The batch: luigi tasks, the output folder's layout, documents made and reused, published files."""
