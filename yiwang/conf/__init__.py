"""Settings, read from the environment with safe defaults (see docs/configuration.md)."""
