"""Public facade of the workflow app (filled in by issue 5)."""
