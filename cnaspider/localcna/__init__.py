"""A local copy of CNA for tests, the offline demo and benchmarks (127.0.0.1 only)."""
