"""yiwang.verify — credential formats and an offline verifier (电子证照离线核验).

Plain Python: no Django and nothing else of yiwang, so it runs on a verifier's laptop with
only its pip dependencies (cryptography, rfc8785, cbor2, base45, segno; tongsuopy for SM2;
pyHanko for sealed PDFs). Modules:

- :mod:`~yiwang.verify.dataintegrity` — W3C VC 2.0 Data Integrity proofs (eddsa-jcs-2022,
  sm2-jcs-2024)
- :mod:`~yiwang.verify.qr` — the compact QR form (CWT in COSE_Sign1, zlib, Base45, ``YW1:``)
- :mod:`~yiwang.verify.statuslist` — W3C Bitstring Status List v1.0
- :mod:`~yiwang.verify.identifiers` — GB/T 36904 电子证照标识 with its check character
- :mod:`~yiwang.verify.offline` — :class:`Verifier` over a trust bundle and cached status lists
- ``python -m yiwang.verify`` — the command line
"""

from yiwang.verify import asn1fix  # noqa: F401  (corrects asn1crypto before any use)
from yiwang.verify.result import Check, Result

__all__ = ["Check", "Result"]
