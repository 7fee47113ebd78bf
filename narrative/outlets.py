"""Outlet names: how one outlet's spellings (a name, a domain, a URL) are folded to one key.

Metadata read off the text and the syndication decision both ask whether two spellings name one
outlet; this module answers, for both, with the standard library only.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["DOMAIN", "KNOWN_OUTLETS", "outlet_from_name", "outlet_from_url", "outlet_key",
           "same_outlet", "squash"]

KNOWN_OUTLETS = {
    "abcnews": "ABC News", "aljazeera": "Al Jazeera", "apnews": "Associated Press",
    "bbc": "BBC News", "bbcnews": "BBC News", "bloomberg": "Bloomberg", "cbsnews": "CBS News",
    "cnn": "CNN", "dailymail": "Daily Mail", "express": "Daily Express", "foxnews": "Fox News",
    "ft": "Financial Times", "huffpost": "HuffPost", "huffingtonpost": "HuffPost",
    "internationalpolicydigest": "International Policy Digest", "intpolicydigest":
    "International Policy Digest", "mirror": "Daily Mirror", "nbcnews": "NBC News",
    "npr": "NPR", "nytimes": "The New York Times", "newyorktimes": "The New York Times",
    "opednews": "OpEdNews", "politico": "Politico", "reuters": "Reuters", "rt": "RT",
    "tass": "TASS", "theguardian": "The Guardian", "guardian": "The Guardian",
    "telegraph": "The Telegraph", "unherd": "UnHerd", "ussanews": "USSANews",
    "washingtonpost": "The Washington Post", "wsj": "The Wall Street Journal",
    "kyivindependent": "The Kyiv Independent", "kyivpost": "Kyiv Post", "euronews": "Euronews",
    "dw": "DW", "france24": "France 24", "sputniknews": "Sputnik", "globaltimes": "Global Times",
}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "go", "news"}
_SECTION_WORDS = re.compile(
    r"(?:\s+(?:op\s*eds?|opinion|commentary|analysis|editorial|columns?|blogs?|world|politics|"
    r"business|news|home|features?))+$", re.IGNORECASE)


def squash(name: str) -> str:
    """Lower case, letters and digits only: the key :data:`KNOWN_OUTLETS` is looked up by."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def outlet_from_name(name: str) -> str | None:
    """A written outlet name tidied and mapped through :data:`KNOWN_OUTLETS`."""
    name = " ".join(name.strip(" \t*_:;,.\"'“”").split())
    if not name:
        return None
    squashed = squash(name)
    if squashed in KNOWN_OUTLETS:
        return KNOWN_OUTLETS[squashed]
    trimmed = _SECTION_WORDS.sub("", name)
    return KNOWN_OUTLETS.get(squash(trimmed), trimmed or name)


def outlet_from_url(url: str) -> str | None:
    """The outlet named by a URL's host: ``https://www.unherd.com/x`` -> ``UnHerd``.

    The host's main label (``unherd`` of ``unherd.com``, ``dailymail`` of ``dailymail.co.uk``)
    is looked up in :data:`KNOWN_OUTLETS`; an unknown host gives the host itself.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/.")
    try:
        host = (urlsplit(text).hostname or "").lower()
    except ValueError:
        return None
    host = host.removeprefix("www.")
    labels = [x for x in host.split(".") if x]
    if len(labels) < 2:
        return None
    main = labels[-2]
    if main in _SECOND_LEVEL and len(labels) >= 3:
        main = labels[-3]
    return KNOWN_OUTLETS.get(main, host)


#: A bare domain (``intpolicydigest.org``, ``www.unherd.com/x``): letters before its last dot.
DOMAIN = r"(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s,;()<>\"']*)?(?![\w.])"


def outlet_key(outlet: str | None) -> str | None:
    """An outlet's name or address folded to what its spellings share (None for no outlet):
    ``International Policy Digest``, ``intpolicydigest.org`` and
    ``https://www.intpolicydigest.org/x`` all give ``internationalpolicydigest``, ``OpEd News``
    gives ``opednews``, ``balticcourier.com`` gives ``balticcourier``."""
    text = (outlet or "").strip()
    if not text:
        return None
    if "://" in text or re.fullmatch(DOMAIN, text, re.IGNORECASE):
        host = outlet_from_url(text) or text
        if "." in host:  # an unknown host: its main label names the outlet
            labels = [x for x in host.lower().removeprefix("www.").split(".") if x]
            main = labels[-2] if len(labels) >= 2 else labels[0]
            if main in _SECOND_LEVEL and len(labels) >= 3:
                main = labels[-3]
            host = main
        text = host
    return squash(outlet_from_name(text) or text) or None


def same_outlet(one: str | None, other: str | None) -> bool:
    """Whether two spellings name one outlet (:func:`outlet_key`; a leading "The" is optional:
    ``The Baltic Courier`` is ``balticcourier.com``)."""
    a, b = outlet_key(one), outlet_key(other)
    return a is not None and b is not None and (a == b or a == "the" + b or b == "the" + a)
