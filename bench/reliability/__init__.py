"""The reliability suite: the backend killed under load, killed while it starts, fed fuzzed
frames. tests/reliability/ runs it bounded; `python -m bench.reliability` runs it long."""
