"""Experiment configs (YAML), the demo and the benchmark scripts behind `make demo` / `make bench`."""
