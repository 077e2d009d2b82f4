"""Benchmarks: each script runs on its own (python bench/NAME.py); a package only so one may import another."""
