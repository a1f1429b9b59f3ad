"""cnaspider's spiders."""
