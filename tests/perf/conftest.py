"""Benchmarks (`make bench`; never part of `make test`): see test_directory_bench.py."""
