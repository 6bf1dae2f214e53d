"""Benchmarks for the local tooling."""
