"""The package version, in a module of its own so that any module can read it without importing
the package (and what its ``__init__`` exposes)."""

__version__ = "0.1.0"
