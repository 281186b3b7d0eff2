"""Device choice and the per-process model cache (LRU under a memory budget)."""

from __future__ import annotations

import pytest

from assay import Generator, ModelRef, RequestResult
from assay.generation.cache import ModelCache
from assay.generation.devices import choose_device, configure_cpu_threads


def test_cpu_is_fp32_and_auto_falls_back_to_it_without_an_accelerator():
    import torch

    assert choose_device("cpu").device == "cpu" and choose_device("cpu").dtype == "float32"
    if not torch.cuda.is_available():
        assert choose_device("auto").device in ("cpu", "mps")


def test_bad_device_settings_are_clear_errors():
    import torch

    with pytest.raises(RuntimeError, match="is not auto, cpu, mps, cuda or cuda:N"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device is available"):
            choose_device("cuda:0")


def test_cpu_threads_follow_the_setting_or_the_cores_we_may_use():
    import os

    import torch

    before = torch.get_num_threads()
    try:
        assert configure_cpu_threads(1) == 1
        assert configure_cpu_threads(0) == len(os.sched_getaffinity(0))
    finally:
        torch.set_num_threads(before)


class Sized(Generator):
    id = "sized"
    modality = "text"
    loads: list[str] = []

    def load(self, model_ref, device, dtype="float32"):
        Sized.loads.append(model_ref.source)
        self.size = int(model_ref.source.split("-")[1])

    def generate(self, batch, progress):
        return [RequestResult(outputs=[]) for _ in batch]

    def approximate_size_bytes(self):
        return self.size


def test_lru_eviction_under_the_budget():
    Sized.loads = []
    cache = ModelCache(budget_bytes=100)
    a, b, c = (ModelRef(f"m-{n}") for n in (40, 50, 30))
    cache.get(Sized, a, "cpu", "float32")
    cache.get(Sized, b, "cpu", "float32")
    cache.get(Sized, a, "cpu", "float32")  # a is now the most recently used
    cache.get(Sized, c, "cpu", "float32")  # 120 > 100: evict b, the least recently used
    assert [k[1] for k in cache.keys()] == ["m-40", "m-30"]
    assert cache.stats.evictions == 1 and cache.stats.hits == 1
    assert Sized.loads == ["m-40", "m-50", "m-30"]


def test_one_model_over_budget_still_runs():
    cache = ModelCache(budget_bytes=10)
    cache.get(Sized, ModelRef("m-500"), "cpu", "float32")
    assert len(cache.keys()) == 1


def test_revision_device_and_dtype_are_part_of_the_key():
    cache = ModelCache(budget_bytes=10_000)
    for ref, device, dtype in [(ModelRef("m-1", "r1"), "cpu", "float32"),
                               (ModelRef("m-1", "r2"), "cpu", "float32"),
                               (ModelRef("m-1", "r1"), "cuda", "bfloat16")]:
        cache.get(Sized, ref, device, dtype)
    assert cache.stats.loads == 3
