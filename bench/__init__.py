"""Benchmarks (not tests): one script per SLO, run as ``python bench/<name>.py``."""
