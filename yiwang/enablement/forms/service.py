"""Public facade of the forms app (filled in by issue 5)."""
