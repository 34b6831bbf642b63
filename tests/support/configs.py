"""Configuration files for the CLI tests: deterministic hash models on the numpy store, no keyword store."""

from __future__ import annotations


def hash_config(*dimensions: int, extra: str = "") -> str:
    """A ``vectorrouter.toml`` declaring a ``hash-<d>`` model per width (the first is the default), with its
    data under ``data/``; ``extra`` is appended (ladder, compliance and other tables)."""
    if not dimensions:
        raise ValueError("name at least one model width")
    models = "".join(f'[models.hash-{d}]\nprovider = "hash"\ndimensions = {d}\n' for d in dimensions)
    return (
        f'path = "data"\ndefault_model = "hash-{dimensions[0]}"\n{models}'
        f'[vector_store]\nkind = "numpy"\n[keyword_store]\nkind = ""\n{extra}'
    )
