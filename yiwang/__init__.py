"""yiwang (一网) — open-source digital-government platform."""

__version__ = "0.1.0"
