"""A drawn figure as files and bytes: reproducible PNG and SVG, and the text sizes it prints at.

Date ticks are frozen first (:func:`.dates.freeze_date_ticks`), so saving a figure is one layout
pass, and the same figure always gives the same bytes.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from narrative.figures.dates import freeze_date_ticks
from narrative.figures.style import PRINT_HEIGHT_IN, PRINT_WIDTH_IN, style_context
from narrative.io import atomic_write_bytes, safe_filename

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PNG_DPI",
    "figure_to_png_bytes",
    "figure_to_svg_bytes",
    "printed_text_sizes",
    "save_figure",
]

#: Resolution of saved and embedded PNGs.
PNG_DPI = 200
_PAD_IN = 0.1  # white margin around a saved figure (inches)


def printed_text_sizes(
    fig: Figure, *, width_in: float = PRINT_WIDTH_IN, height_in: float = PRINT_HEIGHT_IN,
) -> list[tuple[str, float]]:
    """Each visible text of ``fig`` and its size in points as printed: the saved figure (tight
    bounding box and padding, as :func:`figure_to_png_bytes` saves it) scaled down to fit
    ``width_in`` × ``height_in``, as the PDF report places it (never scaled up)."""
    from matplotlib.text import Text

    freeze_date_ticks(fig)
    with style_context():
        fig.canvas.draw()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    width, height = box.width + 2 * _PAD_IN, box.height + 2 * _PAD_IN
    scale = min(1.0, width_in / width, height_in / height)
    out = []
    for text in fig.findobj(Text):
        axes = text.axes
        shown = text.get_visible() and (axes is None or axes.get_visible())
        if shown and text.get_text().strip():
            out.append((text.get_text(), float(text.get_fontsize()) * scale))
    return out


def figure_to_png_bytes(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes (tight bounding box, white background), e.g. to inline in HTML.

    The PNG is opaque RGB, not matplotlib's RGBA: a PDF can then hold its image data unchanged
    (see :mod:`narrative.report.pdf_images`), and the file is smaller.
    """
    from PIL import Image, PngImagePlugin

    freeze_date_ticks(fig)
    buffer = io.BytesIO()
    with style_context():
        # Decoded again at once: the fastest compression (the pixels are the same).
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=_PAD_IN,
                    pil_kwargs={"compress_level": 1})
    buffer.seek(0)
    with Image.open(buffer) as image:
        rgba = image.convert("RGBA")
        text = {k: v for k, v in image.info.items() if isinstance(v, str)}
        dpi_info = image.info.get("dpi")
    opaque = Image.new("RGB", rgba.size, "white")
    opaque.paste(rgba, mask=rgba.getchannel("A"))
    meta = PngImagePlugin.PngInfo()
    for key, value in text.items():  # matplotlib's Software entry
        meta.add_text(key, value)
    out = io.BytesIO()
    opaque.save(out, format="png", pnginfo=meta, **({"dpi": dpi_info} if dpi_info else {}))
    return out.getvalue()


def figure_to_svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG bytes, reproducible: fixed ``svg.hashsalt`` and no date metadata."""
    freeze_date_ticks(fig)
    buffer = io.BytesIO()
    with style_context():
        fig.savefig(
            buffer, format="svg", bbox_inches="tight", pad_inches=_PAD_IN, metadata={"Date": None},
        )
    return buffer.getvalue()


def save_figure(
    fig: Figure, out_dir: str | os.PathLike[str], name: str, *, dpi: int = PNG_DPI
) -> dict[str, Path]:
    """Write ``<slug>.png`` and ``<slug>.svg`` into ``out_dir`` atomically; same figure, same bytes.

    The file stem is :func:`narrative.io.safe_filename` of ``name``, so any name is safe and the same
    name always gives the same files. Returns ``{"png": path, "svg": path}``.
    """
    stem = safe_filename(name)
    folder = Path(out_dir)
    return {
        "png": atomic_write_bytes(folder / f"{stem}.png", figure_to_png_bytes(fig, dpi=dpi)),
        "svg": atomic_write_bytes(folder / f"{stem}.svg", figure_to_svg_bytes(fig)),
    }
