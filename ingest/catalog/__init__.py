"""The DashScope error catalogue: codes, statuses, meanings (zh/en), categories, advice, as data.

The data is ``codes.toml`` beside this module; it is validated once at load time, and a malformed
file fails with :class:`CatalogueError` naming the entry and the field.

    >>> cat = load_catalogue()
    >>> cat.native_code("limit_requests")
    'Throttling.RateQuota'
    >>> cat.classify("Throttling.AllocationQuota", "Free allocated quota exceeded.")[0]
    'free-tier'
"""

from __future__ import annotations

from ingest.catalog.catalogue import Catalogue
from ingest.catalog.loader import DEFAULT_PATH, load_catalogue, parse_catalogue
from ingest.catalog.model import (
    ACTORS,
    CATEGORY_IDS,
    SOURCES,
    UNKNOWN_CATEGORY,
    CatalogueError,
    Category,
    CodeEntry,
)
from ingest.catalog.seed import SEED_PATH, SeedRow, read_seed_rows

__all__ = [
    "ACTORS",
    "CATEGORY_IDS",
    "DEFAULT_PATH",
    "SEED_PATH",
    "SOURCES",
    "UNKNOWN_CATEGORY",
    "Catalogue",
    "CatalogueError",
    "Category",
    "CodeEntry",
    "SeedRow",
    "load_catalogue",
    "parse_catalogue",
    "read_seed_rows",
]
