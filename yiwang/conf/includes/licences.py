"""Settings of the licences area (read from the environment through env())."""
