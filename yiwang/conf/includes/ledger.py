"""Settings of the ledger area (read from the environment through env())."""
