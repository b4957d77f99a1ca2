"""Models of the seals app."""
