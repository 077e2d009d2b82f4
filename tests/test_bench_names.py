"""Benchmarks run as `python bench/NAME.py`, which puts bench/ first on sys.path: a script named like a standard
library module (bench/email.py did) hides that module from every other benchmark."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_no_benchmark_script_hides_a_standard_library_module() -> None:
    names = {p.stem for p in BENCH.glob("*.py")}
    assert names, "no benchmark scripts found"
    assert names & set(sys.stdlib_module_names) == set()
