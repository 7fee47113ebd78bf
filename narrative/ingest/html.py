"""HTML pages -> main text and metadata, through trafilatura (never regexes over markup).

trafilatura finds the article body (dropping navigation, comments, footers) and reads title,
author, date, site name and canonical URL from meta tags and JSON-LD. Those values enter the
article as fields with origin ``field:html``; the manifest still wins over them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["extract_html"]


def extract_html(html: str, *, url: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """``(main_text, fields)`` of one HTML document; ``main_text`` None when none was found.

    ``fields`` may hold ``title, author, date, outlet, url`` (strings, as the page states them;
    the date ``YYYY-MM-DD``).
    """
    import trafilatura

    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True, deduplicate=False,
    )
    if document is None:
        # Short pages fall below trafilatura's size heuristics; take every paragraph instead.
        text = trafilatura.extract(html, include_comments=False, no_fallback=False) or None
        return text, {}
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    fields = {
        "title": data.get("title"),
        "author": data.get("author"),
        "date": data.get("date"),
        "outlet": data.get("sitename") or None,
        "url": data.get("url"),
    }
    if fields["author"]:
        fields["author"] = "; ".join(a.strip() for a in str(fields["author"]).split(";"))
    return data.get("text") or None, {k: v for k, v in fields.items() if v}
