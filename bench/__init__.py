"""Threadline benchmarks and data generators (not run by the test suite): see bench/README.md."""
