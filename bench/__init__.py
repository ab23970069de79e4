"""Benchmarks: backend fan-out and ingest, the wall display (run with `python -m bench`)."""
