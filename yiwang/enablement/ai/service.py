"""Public facade of the ai app (filled in by issue 5)."""
