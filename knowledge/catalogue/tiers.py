"""Curated guidance first, then the national catalogue: the one hook between the two tiers.

The curated search runs unchanged and decides on its own; only when it declines is the catalogue consulted, and the
catalogue then applies its own decline. Callers (the action server, the CLI, the evaluation) use ``search_tiers``.
The catalogue is optional: without an imported catalogue every call is just the curated search.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from .search import CatalogueResult, CatalogueSearcher
from .store import Catalogue, catalogue_dir

log = logging.getLogger(__name__)
CATALOGUE_KEY_PREFIX = "cat:"   # procedure keys of catalogue entries in slots and button payloads
_lock = threading.Lock()


@dataclass
class TieredResult:
    """The curated search's result, and the catalogue's when the curated tier declined."""

    curated: Any                                  # knowledge.search.SearchResult
    catalogue: Optional[CatalogueResult] = None

    @property
    def tier(self) -> str:
        """"curated", "catalogue" or "none" (declined by both)."""
        if not self.curated.declined:
            return "curated"
        if self.catalogue is not None and not self.catalogue.declined:
            return "catalogue"
        return "none"

    curated_key: Optional[str] = None             # the curated procedure holding the catalogue record's code

    @property
    def key(self) -> Optional[str]:
        """The answering key: a curated key, "cat:<record id>", or None when both declined."""
        if self.tier == "curated":
            return self.curated.results[0].key
        if self.tier == "catalogue":
            return self.curated_key or CATALOGUE_KEY_PREFIX + self.catalogue.top.id
        return None


def curated_key_for(code: str, procedures: Dict[str, Any]) -> Optional[str]:
    """The curated procedure that lists this national code (its guidance then answers instead of the record)."""
    if not code:
        return None
    return next((k for k, p in sorted(procedures.items()) if any(c.get("code") == code for c in p.codes)), None)


def catalogue_enabled(env: Optional[dict] = None) -> bool:
    """False when KB_CATALOGUE is 0/off/false (the catalogue is used whenever it was imported otherwise)."""
    env = os.environ if env is None else env
    return (env.get("KB_CATALOGUE", "") or "1").strip().lower() not in ("0", "off", "false", "no")


def load_catalogue_searcher(embedder: Any, directory: Optional[Path] = None,
                            faiss_kind: str = "flat") -> Optional[CatalogueSearcher]:
    """A prepared catalogue searcher sharing ``embedder``, or None when none was imported or it is switched off."""
    if not catalogue_enabled():
        return None
    directory = Path(directory) if directory else catalogue_dir()
    catalogue = Catalogue.load(directory)
    if catalogue is None:
        return None
    with _lock:
        searcher = CatalogueSearcher(catalogue, embedder, faiss_kind=faiss_kind).prepare()
    log.info("catalogue tier loaded: %d records from %s", len(catalogue), directory)
    return searcher


def search_tiers(curated_searcher: Any, catalogue: Optional[CatalogueSearcher], query: str, k: int = 5,
                 mode: Optional[str] = None) -> TieredResult:
    """Curated search; the catalogue's only when the curated tier declines (curated guidance always wins)."""
    result = curated_searcher.search(query, k=k, mode=mode)
    if not result.declined or catalogue is None or not query.strip():
        return TieredResult(result)
    found = catalogue.search(query, k=k, mode=mode or "hybrid")
    redirect = curated_key_for(found.top.code, curated_searcher.kb.procedures) \
        if found.answered and found.top is not None else None
    return TieredResult(result, found, redirect)
