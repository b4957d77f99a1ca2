"""Models of the trust app."""
