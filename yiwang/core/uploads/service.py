"""Public facade of the uploads app (filled in by issue 5)."""
