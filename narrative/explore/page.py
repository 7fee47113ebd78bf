"""The explorer as one self-contained HTML file: data, charting library and code inline.

Nothing from the data is ever code. The data sits in a ``<script type="application/json">``
block, which browsers never run, with every ``<``, ``>`` and ``&`` written as a JSON escape, so no
text in it can close the block. The page's code builds the DOM with text nodes only. The
Content-Security-Policy allows exactly the page's two scripts (plotly.js and the explorer's own
code) by their sha256 hashes: an injected script, inline handler or ``javascript:`` URL would be
refused even if one reached the DOM. Neither ``'unsafe-inline'`` nor ``'unsafe-eval'`` is allowed
for scripts: the plotly traces used here (scatter, bar, heatmap) evaluate no generated code.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from importlib import resources
from typing import Any

__all__ = ["content_security_policy", "render_explorer", "script_hash"]


def script_hash(source: str) -> str:
    """A CSP source allowing the inline element whose text is exactly ``source``."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: list[str]) -> str:
    """Allow these inline scripts (by hash) and nothing else: no network, no plugin, no form, no
    frame, no ``<base>``. Images only as ``data:`` (plotly's "download as PNG").

    Styles are ``'unsafe-inline'``: plotly.js writes ``<style>`` rules and ``style`` attributes as
    it draws, and a style hash would make the browser ignore ``'unsafe-inline'`` and block them.
    CSS runs no script, and with no network allowed it cannot send anything out.
    """
    script_src = " ".join(script_hash(s) for s in scripts)
    return (f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; "
            "img-src data:; base-uri 'none'; form-action 'none'; object-src 'none'")


def json_block(data: Any) -> str:
    """``data`` as JSON that is inert inside ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    text = resources.files("narrative.explore").joinpath("assets", name).read_text("utf-8")
    return text if name.endswith(".html") else _inline_safe(text, name)


@functools.lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle that ships with the ``plotly`` package (no network)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:  # a dependency of BERTopic, so normally present
        raise ImportError("the explorer needs the plotly package: pip install plotly") from exc
    return _inline_safe(get_plotlyjs(), "plotly.js")


def _inline_safe(source: str, name: str) -> str:
    """``source`` with its line ends as the HTML parser will hand them to the hash check (LF
    only), and checked to contain nothing that would end its ``<script>``/``<style>`` early."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    lowered = source.lower()
    for marker in ("</script", "</style", "<!--"):
        if marker in lowered:
            raise ValueError(f"{name} contains {marker!r} and cannot be inlined as it is")
    return source


def render_explorer(data: dict[str, Any], *, title: str) -> str:
    """The whole page for ``data`` (see :func:`narrative.explore.data.explorer_data`)."""
    from jinja2 import Environment, StrictUndefined

    app, css, plotly = _asset("explorer.js"), _asset("explorer.css"), plotly_js()
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(_asset("explorer.html"))
    from markupsafe import Markup

    return template.render(
        title=title,
        csp=content_security_policy([plotly, app]),
        css=Markup(css),
        data=Markup(json_block(data)),
        plotly=Markup(plotly),
        app=Markup(app),
    )
