"""Per-process model cache: loaded generators kept warm, evicted least-recently-used.

Loading a model costs seconds to minutes; a job on a warm model must never reload it.
Entries are keyed by (generator id, model source, revision, device, dtype) and evicted
oldest-first when the summed size passes the budget (the newest entry always stays,
even if it alone is over budget, so one large model can still run).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from assay.plugins.contracts import Generator, ModelRef

log = logging.getLogger(__name__)

CacheKey = tuple[str, str, str, str, str]


@dataclass
class CacheStats:
    """Counters for tests and the status endpoint."""

    loads: int = 0
    hits: int = 0
    evictions: int = 0


class ModelCache:
    """An LRU of loaded Generator instances under a memory budget in bytes."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[CacheKey, Generator] = OrderedDict()
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @staticmethod
    def key(generator_cls: type[Generator], model: ModelRef, device: str, dtype: str) -> CacheKey:
        """The identity of one loaded model."""
        return (generator_cls.id, model.source, model.revision or "", device, dtype)

    def get(self, generator_cls: type[Generator], model: ModelRef, device: str,
            dtype: str) -> Generator:
        """A loaded generator for ``model``, loading it on a miss."""
        key = self.key(generator_cls, model, device, dtype)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return self._entries[key]
            generator = generator_cls()
            generator.load(model, device, dtype)
            generator.model_ref, generator.device, generator.dtype = model, device, dtype
            self.stats.loads += 1
            self._entries[key] = generator
            self._evict()
            return generator

    def _evict(self) -> None:
        evicted = False
        while len(self._entries) > 1 and self.size_bytes() > self.budget_bytes:
            key, _ = self._entries.popitem(last=False)
            self.stats.evictions += 1
            evicted = True
            log.info("model cache evicted %s", key)
        if evicted:
            _release_accelerator_memory()

    def size_bytes(self) -> int:
        """Summed size of the cached models."""
        return sum(g.approximate_size_bytes() for g in self._entries.values())

    def keys(self) -> list[CacheKey]:
        """Cached keys, least recently used first."""
        return list(self._entries)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()


def _release_accelerator_memory() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a worker dependency
        pass
