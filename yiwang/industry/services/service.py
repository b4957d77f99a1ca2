"""Public facade of the services app (filled in by issue 5)."""
