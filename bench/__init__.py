"""Reproducible benchmarks; each prints its figures and the machine."""
