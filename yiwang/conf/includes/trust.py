"""Settings of the trust area (read from the environment through env())."""
