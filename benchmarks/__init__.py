"""Benchmarks and their helpers (real Debian music, peers run side by side); not part of the package."""
