"""What sealing and validation share: the PAdES levels, the key usages a seal certificate
must carry, the errors, certificates parsed once per process, and strict PDF parsing."""

from __future__ import annotations

import io
from functools import lru_cache

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.settings import KeyUsageConstraints

LEVELS = ("B-B", "B-T", "B-LT")

# Seal certificates carry digitalSignature and nonRepudiation; either is accepted.
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                match_all_key_usages=False)


class SealingError(Exception):
    """The document could not be sealed (malformed PDF, unusable key or TSA)."""


class MalformedPdf(SealingError):
    """The bytes are not a PDF pyHanko can read."""


@lru_cache(maxsize=256)
def certificate(der: bytes) -> asn1_x509.Certificate:
    """Parsed once: asn1crypto parses lazily and pyHanko walks the whole certificate each
    time it builds a CMS, so a fresh object per signature costs more than the signature."""
    return asn1_x509.Certificate.load(der)


def read_pdf(pdf: bytes) -> PdfFileReader:
    """Parse ``pdf`` (strict), raising :class:`MalformedPdf` with the reason."""
    if not pdf.startswith(b"%PDF-"):
        raise MalformedPdf("not a PDF (it does not start with %PDF-)")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        if reader.encrypted:
            raise MalformedPdf("encrypted PDFs are not accepted")
        reader.root["/Pages"]
        return reader
    except MalformedPdf:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            AssertionError, RecursionError) as exc:
        raise MalformedPdf(f"the PDF cannot be read: {exc}") from exc


def open_for_update(pdf: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``pdf`` (strict), its reader checked as :func:`read_pdf`
    checks: the document is parsed once for both."""
    if not pdf.startswith(b"%PDF-"):
        raise MalformedPdf("not a PDF (it does not start with %PDF-)")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
        if writer.prev.encrypted:
            raise MalformedPdf("encrypted PDFs are not accepted")
        writer.prev.root["/Pages"]
        return writer
    except MalformedPdf:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            AssertionError, RecursionError) as exc:
        raise MalformedPdf(f"the PDF cannot be read: {exc}") from exc


def page_count(reader: PdfFileReader) -> int:
    """The number of pages of the document."""
    return int(reader.root["/Pages"]["/Count"])

