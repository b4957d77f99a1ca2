"""Public facade of the applications app (filled in by issue 5)."""
