"""Public facade of the notify app (filled in by issue 5)."""
