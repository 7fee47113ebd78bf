"""PNG figures placed in the PDF as they are, without decoding and compressing them again.

A PNG's image data is a zlib (Flate) stream of rows, each led by a filter byte: exactly what a
PDF image with ``/FlateDecode`` and the PNG predictor (``/Predictor 15``) holds. ReportLab's own
``Image`` instead decodes every PNG to raw pixels, hashes them and compresses them again, which
took most of a 45-figure report's PDF time; here the PNG's bytes go into the PDF unchanged.

Only 8-bit, non-interlaced greyscale or RGB PNGs without transparency can be copied so (the
figures :func:`narrative.figures.save_figure` writes); :func:`png_stream` returns None for any
other, and the caller falls back to ReportLab's ``Image``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Any

__all__ = ["PngStream", "png_figure", "png_stream"]

_MAGIC = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3}  # PNG colour type -> samples per pixel (greyscale, RGB)


@dataclass(frozen=True)
class PngStream:
    """What a PDF image needs from a PNG: its size, samples per pixel and zlib image data."""

    width: int
    height: int
    channels: int
    data: bytes


def png_stream(png: bytes) -> PngStream | None:
    """The image data of ``png`` when a PDF can use it as is; None for a PNG with alpha or
    transparency, a palette, 16-bit samples or interlacing, and for anything broken."""
    png = bytes(png)
    if not png.startswith(_MAGIC):
        return None
    pos, header, parts = len(_MAGIC), None, []
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        if len(body) != length:
            return None
        if zlib.crc32(kind + body) != struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0]:
            return None
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            parts.append(body)
        elif kind in (b"tRNS", b"PLTE"):
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not parts:
        return None
    width, height, depth, colour, compression, filtering, interlace = header
    if depth != 8 or colour not in _CHANNELS or compression or filtering or interlace:
        return None
    return PngStream(width, height, _CHANNELS[colour], b"".join(parts))


def _xobject(name: str, image: PngStream) -> Any:
    """A ReportLab image XObject holding ``image``'s data as is, with the PNG predictor."""
    from reportlab.pdfbase.pdfdoc import (
        PDFArray, PDFDictionary, PDFImageXObject, PDFName, PDFStream,
    )

    class _PngXObject(PDFImageXObject):
        def __init__(self) -> None:  # the base class would load an image: nothing to load
            self.name, self.mask = name, None
            self.width, self.height = image.width, image.height

        def format(self, document: Any) -> bytes:
            stream = PDFStream(content=image.data)
            entries = stream.dictionary
            entries["Type"], entries["Subtype"] = PDFName("XObject"), PDFName("Image")
            entries["Width"], entries["Height"] = image.width, image.height
            entries["BitsPerComponent"] = 8
            entries["ColorSpace"] = PDFName("DeviceRGB" if image.channels == 3 else "DeviceGray")
            # Filter and DecodeParms must have the same shape: an array of filters takes an
            # array of parameter dictionaries (PDF 32000-1, 7.3.8.2). A bare dictionary beside
            # an array is ignored by poppler and pdfium, which then decode without the predictor.
            entries["Filter"] = PDFArray([PDFName("FlateDecode")])  # already applied: kept
            entries["DecodeParms"] = PDFArray([PDFDictionary({
                "Predictor": 15, "Colors": image.channels, "BitsPerComponent": 8,
                "Columns": image.width,
            })])
            entries["Length"] = len(image.data)
            return stream.format(document)

    return _PngXObject()


def png_figure(image: PngStream, width: float, height: float) -> Any:
    """A flowable drawing ``image`` at ``width`` × ``height`` points, centred; an image drawn
    twice is stored once (named by the hash of its data)."""
    from reportlab.platypus import Flowable

    name = "PngFig" + hashlib.sha256(image.data).hexdigest()[:24]

    class _PngFigure(Flowable):
        hAlign = "CENTER"

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            return width, height

        def draw(self) -> None:
            # What ReportLab's Canvas.drawImage does once it has an image XObject.
            canvas, document = self.canv, self.canv._doc
            registered = document.getXObjectName(name)
            if document.idToObject.get(registered) is None:
                xobject = _xobject(name, image)
                canvas._setXObjects(xobject)
                document.Reference(xobject, registered)
                document.addForm(name, xobject)
            canvas._currentPageHasImages = 1
            canvas.saveState()
            canvas.scale(width, height)
            canvas._code.append(f"/{registered} Do")
            canvas.restoreState()
            canvas._formsinuse.append(name)

    figure = _PngFigure()
    figure.drawWidth, figure.drawHeight = width, height
    return figure
