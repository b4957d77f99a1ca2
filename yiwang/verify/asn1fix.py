"""A correction to asn1crypto 1.5.1's test for BER indefinite lengths, installed on import
of :mod:`yiwang.verify`.

asn1crypto decides that a value it loaded was encoded with BER's *indefinite* length when
the last byte of its header is ``0x80``. But a definite long-form length whose last octet is
``0x80`` ends the same way: 128 bytes is ``81 80``, 384 is ``82 01 80``, and so on. Such a
value — one in roughly 256 of every length above 127 — is then re-encoded from scratch
(``force``) on every dump, and so is everything inside it, again and again as enclosing SET
OFs sort and re-dump their members. Deep in a CMS signature (a timestamp token inside a
signer's unsigned attributes, inside the SignedData) that cost grows exponentially with the
depth: one PAdES seal in a few dozen took 30 seconds of CPU instead of 20 ms, whenever a
random timestamp serial or nonce gave some nested structure such a length. The upstream
report is wbond/asn1crypto#249 (open; asn1crypto has had no release since 1.5.1).

The correction wraps the five ``dump`` methods that make the test. A value whose header ends
in ``0x80`` but whose trailer is empty — it was loaded with a definite length, or built in
memory — has its header recomputed from its (cached) contents instead of being re-encoded:
the same DER, without the cascade. A value that really was indefinite carries the
end-of-contents trailer and is re-encoded as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asn1crypto import core

_PATCHED = "_yiwang_definite_length_fix"


def _definite(dump: Callable[..., bytes]) -> Callable[..., bytes]:
    @functools.wraps(dump)
    def wrapper(self: Any, force: bool = False) -> bytes:
        header = self._header
        if header is not None and header[-1:] == b"\x80" and not self._trailer:
            # A definite length ending in 0x80, not BER's indefinite form: let the header
            # be recomputed from the contents rather than the whole value re-encoded.
            self._header = None
        return dump(self, force)

    setattr(wrapper, _PATCHED, True)
    return wrapper


def install() -> None:
    """Install the correction (idempotent)."""
    for cls in (core.Asn1Value, core.Choice, core.Primitive, core.Sequence, core.SequenceOf):
        dump = cls.__dict__["dump"]
        if not getattr(dump, _PATCHED, False):
            cls.dump = _definite(dump)


install()
