"""Masking (脱敏) — placeholder replaced by the masking implementation."""


def mask_text(text: str) -> str:
    return text
