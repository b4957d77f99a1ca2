"""Files made in the tests: images with metadata, PDFs with active content, polyglots."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

OWNER = "user:1"


def accept(content: bytes, filename: str = "file.bin", **kwargs):  # type: ignore[no-untyped-def]
    """Accept ``content`` as an upload of :data:`OWNER`."""
    from yiwang.core.uploads import service

    return service.accept_upload(content, filename=filename, owner_key=OWNER,
                                 purpose="test", **kwargs)


def refused(content: bytes, code: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    """Assert ``content`` is refused with ``code``, a Chinese message and nothing stored."""
    import pytest

    from yiwang.core.uploads import service
    from yiwang.core.uploads.models import StoredUpload

    with pytest.raises(service.UploadRejected) as caught:
        accept(content, **kwargs)
    assert caught.value.code == code, caught.value.messages
    message = caught.value.messages[0]
    assert any("\u4e00" <= c <= "\u9fff" for c in message)  # a Chinese message
    assert StoredUpload.objects.count() == 0
    return message


def jpeg(size: tuple[int, int] = (40, 20), *, orientation: int | None = None,
         gps: bool = False, comment: bytes | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    # A marker so that orientation can be checked: the left half is dark.
    image.paste((10, 10, 10), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}
    out = io.BytesIO()
    kwargs = {"exif": exif.tobytes(), "icc_profile": b"\x00" * 128}
    if comment is not None:
        kwargs["comment"] = comment
    image.save(out, "JPEG", **kwargs)
    return out.getvalue()


def png(size: tuple[int, int] = (30, 30), *, text: dict[str, str] | None = None,
        mode: str = "RGB") -> bytes:
    image = Image.new(mode, size)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, icc_profile=b"\x00" * 128)
    return out.getvalue()


def pdf(pages: int = 1, *, setup=None) -> bytes:  # type: ignore[no-untyped-def]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if setup is not None:
        setup(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_javascript(writer: PdfWriter) -> None:
    # The document-level script name tree (/Names /JavaScript), as add_js used to write it.
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('x');")})
    tree = DictionaryObject({NameObject("/Names"): ArrayObject(
        [TextStringObject("js0"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)})


def with_open_action_js(writer: PdfWriter) -> None:
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert(1)")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def with_open_action_destination(writer: PdfWriter) -> None:
    page = writer.pages[0].indirect_reference
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [page, NameObject("/Fit")])


def with_launch(writer: PdfWriter) -> None:
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                               NameObject("/F"): TextStringObject("calc.exe")})
    annotation = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/A"): action})
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])


def with_attachment(writer: PdfWriter) -> None:
    writer.add_attachment("payload.exe", b"MZ....")


def with_page_aa(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): DictionaryObject({NameObject("/S"): NameObject("/GoTo")})})


def with_xfa(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("<xdp/>")})


def with_password(writer: PdfWriter) -> None:
    writer.encrypt("secret")


def raw_pdf(catalog_extra: bytes = b"", extra_objects: tuple[bytes, ...] = (), *,
            page_extra: bytes = b"", kids: bytes = b"3 0 R") -> bytes:
    """A PDF written by hand (objects 1–3: catalog, pages, page; then ``extra_objects``)
    with a correct cross-reference table, for spellings pypdf's writer would normalise;
    ``page_extra`` goes into the page, ``kids`` is the page tree's /Kids."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page_extra + b" >>",
               *extra_objects]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
