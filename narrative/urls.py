"""Which URLs may become links in a page the package writes (a report, the explorer)."""

from __future__ import annotations

import re

__all__ = ["safe_url"]

_HTTP_URL = re.compile(r"https?://[^/?#\\@\s]+(?:[/?#]\S*)?\Z", re.IGNORECASE)


def safe_url(url: object) -> str | None:
    """``url`` if it is a plain absolute http(s) URL that is safe to put in ``href``, else None.

    Rejects other schemes (``javascript:``, ``data:``, ``file:``), anything with whitespace or
    control characters (browsers strip those, which can turn ``java\\tscript:`` into a scheme), and
    credentials in the authority.
    """
    if not isinstance(url, str) or len(url) > 4096:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url):
        return None
    return url if _HTTP_URL.match(url) else None
