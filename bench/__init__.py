"""Backend benchmarks: fan-out latency and sustained ingest (run with `python -m bench`)."""
