"""Settings of the seals area (read from the environment through env())."""
