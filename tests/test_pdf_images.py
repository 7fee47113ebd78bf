"""PNG figures copied into the PDF without re-encoding: the pixels a reader decodes are the PNG's."""

from __future__ import annotations

import io
import shutil
import subprocess
import zlib

import numpy as np
import pytest
from PIL import Image

from narrative.report.model import FigureRef, ReportModel
from narrative.report.pdf import render_pdf
from narrative.report.pdf_images import png_stream


def _png(mode: str, size=(37, 11), **save) -> bytes:
    """A PNG with a pattern in every channel (rows differ, so every PNG row filter is used)."""
    rng = np.random.default_rng(0)
    bands = {"RGB": 3, "RGBA": 4, "L": 1, "P": 1}[mode]
    pixels = rng.integers(0, 256, size=(size[1], size[0], bands), dtype=np.uint8)
    pixels[:, : size[0] // 2] = 200  # flat areas as well as noise
    image = Image.fromarray(pixels[..., 0] if bands == 1 else pixels,
                            mode="L" if mode in ("L", "P") else mode)
    if mode == "P":
        image = image.convert("P")
    out = io.BytesIO()
    image.save(out, format="png", **save)
    return out.getvalue()


def _with_header_byte(png: bytes, offset: int, value: int) -> bytes:
    """``png`` with byte ``offset`` of its IHDR data set to ``value`` and the CRC made right."""
    import struct

    header = bytearray(png[16:29])
    header[offset] = value
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(header)))
    return png[:16] + bytes(header) + crc + png[33:]


def test_png_stream_takes_opaque_8_bit_pngs_and_refuses_the_rest():
    for mode, channels in (("RGB", 3), ("L", 1)):
        png = _png(mode)
        stream = png_stream(png)
        assert stream is not None and (stream.width, stream.height) == (37, 11)
        assert stream.channels == channels
        # the PNG's zlib data: one filter byte and width x channels samples per row
        assert len(zlib.decompress(stream.data)) == 11 * (1 + 37 * channels)
        assert stream.data in png
    assert png_stream(_png("RGBA")) is None  # alpha: ReportLab's Image handles it
    assert png_stream(_png("P")) is None  # palette
    assert png_stream(_with_header_byte(_png("RGB"), 12, 1)) is None  # interlaced (Adam7)
    assert png_stream(_with_header_byte(_png("RGB"), 8, 16)) is None  # 16-bit samples
    broken = bytearray(_png("RGB"))
    broken[40] ^= 0xFF  # inside the first chunk after the header: its CRC no longer matches
    assert png_stream(bytes(broken)) is None
    assert png_stream(b"not a png") is None


def _model(png: bytes) -> ReportModel:
    return ReportModel(
        title="Images", subtitle="", summary=[], corpus={}, narratives=[],
        figures=[FigureRef(key="f", title="A figure", caption="c", png=png),
                 FigureRef(key="g", title="Same figure again", caption="c", png=png)],
        tables=[], methods={}, warnings=[],
    )


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_pdf_reader_decodes_the_figure_to_the_same_pixels(mode):
    """A PDF reader (pypdf) decodes the embedded figure to exactly the PNG's pixels: the PNG
    predictor and colour space are declared right. RGBA takes ReportLab's own path."""
    pypdf = pytest.importorskip("pypdf")
    png = _png(mode)
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(_model(png))))
    images = [image for page in reader.pages for image in page.images]
    assert images
    expected = np.asarray(Image.open(io.BytesIO(png)).convert("RGB" if mode != "L" else "L"))
    for image in images:
        decoded = np.asarray(image.image.convert("RGB" if mode != "L" else "L"))
        assert decoded.shape == expected.shape
        assert np.array_equal(decoded, expected)
    # the figure shown twice is stored once
    objects = {ref.idnum for page in reader.pages
               for ref in page["/Resources"].get("/XObject", {}).values()
               if ref.get_object()["/Subtype"] == "/Image"}
    assert len(objects) == 1
    drawn = sum(page.get_contents().get_data().count(b" Do") for page in reader.pages)
    assert drawn == 2


def test_saved_figures_are_opaque_rgb_with_the_drawn_pixels():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from narrative.figures import figure_to_png_bytes

    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1, 2], [2, 0, 1], color="#d62728")
    png = figure_to_png_bytes(fig)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB" and png_stream(png) is not None
    reference = io.BytesIO()
    fig.savefig(reference, format="png", dpi=200, bbox_inches="tight", pad_inches=0.1)
    rgba = np.asarray(Image.open(reference).convert("RGBA"))
    assert (rgba[..., 3] == 255).all()  # the figure is opaque: nothing to flatten
    assert np.array_equal(np.asarray(image), rgba[..., :3])


def _red_block_png(size=(240, 160)) -> bytes:
    """A PNG whose left half is one solid red and whose right half is noise."""
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    pixels[:, : size[0] // 2] = (200, 30, 30)
    out = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(out, format="png")
    return out.getvalue()


def _red_pixels(image: Image.Image) -> int:
    rgb = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(rgb - (200, 30, 30)).max(axis=2) <= 12).sum())


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_poppler_and_pdfium_extract_the_figure_pixels_unchanged(tmp_path, mode):
    """The images poppler (pdfimages) and pdfium decode from the PDF are the PNG's pixels: the
    PNG predictor is declared in a form every reader honours, not only pypdf."""
    png = _png(mode, size=(120, 80))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(_model(png)))
    expected = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    decoded = []
    if shutil.which("pdfimages"):
        subprocess.run(["pdfimages", "-png", str(pdf), str(tmp_path / "img")], check=True)
        decoded += [Image.open(p) for p in sorted(tmp_path.glob("img-*.png"))]
    pdfium = pytest.importorskip("pypdfium2")
    for page in pdfium.PdfDocument(str(pdf)):
        for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
            decoded.append(obj.get_bitmap(render=False).to_pil())
    assert len(decoded) >= 2
    for image in decoded:
        assert np.array_equal(np.asarray(image.convert("RGB")), expected)


def test_rendered_pages_show_the_figure_as_drawn(tmp_path):
    """Rasterised as a reader sees it (pdfium, and poppler's pdftoppm), the pages show the
    figure's solid red half, at about the share of the drawn area the PNG gives it. A figure
    decoded without its predictor is sheared noise and shows next to no red."""
    png = _red_block_png()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(_model(png)))
    pdfium = pytest.importorskip("pypdfium2")
    renderers = {"pdfium": [page.render(scale=1).to_pil() for page in pdfium.PdfDocument(str(pdf))]}
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "72", "-png", str(pdf), str(tmp_path / "page")],
                       check=True)
        renderers["poppler"] = [Image.open(p) for p in sorted(tmp_path.glob("page-*.png"))]
    for name, pages in renderers.items():
        red = sum(_red_pixels(page) for page in pages)
        drawn = sum(int((np.asarray(page.convert("L")) < 250).sum()) for page in pages)
        # two copies of a figure half red, on pages with a little text besides
        assert 0.3 < red / drawn < 0.55, (name, red, drawn)
