"""Benchmarks: they print numbers and assert nothing. Run ``python -m bench`` or one module."""
