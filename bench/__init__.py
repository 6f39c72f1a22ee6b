"""Benchmarks: `python -m bench` (full, writes bench/results.md) and
`python -m bench --quick --json` (under a minute)."""
