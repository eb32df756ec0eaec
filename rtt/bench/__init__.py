"""Benchmarks: measured numbers go to JSON under ``reports/``, never into timed test asserts."""
