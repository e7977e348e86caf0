"""Shared ML plumbing: device choice, checkpoint I/O, training loop with callbacks, metrics."""
