"""Batch estimates: many rows from a file, streamed in chunks, every row accounted for."""
