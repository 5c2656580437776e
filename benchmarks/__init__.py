"""Benchmarks of the project, and the launcher of the dashboard in a real browser that the
benchmark and the end-to-end tests share. Not part of the `ser` library."""
