"""cnaspider benchmarks: scripts that print numbers (``make bench``), not timed tests."""
