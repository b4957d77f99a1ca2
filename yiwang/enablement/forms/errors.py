"""The exception raised for an invalid submission."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class SubmissionInvalid(ValidationError):
    """What a person submitted does not satisfy the form.

    ``errors`` maps a field path (``"owner_id"``, ``"rows[2].area"``, ``"home.region"``, or
    ``"__all__"`` for the submission as a whole) to Chinese messages a person can act on.
    As a ``ValidationError`` it carries the same messages in ``message_dict``.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__({k: [str(m) for m in v] for k, v in self.errors.items()})
