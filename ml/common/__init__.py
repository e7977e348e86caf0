"""Shared ML plumbing: device choice, checkpoint I/O, configs to and from JSON, training loop with callbacks,
time budget and learning-rate schedule, metrics."""
