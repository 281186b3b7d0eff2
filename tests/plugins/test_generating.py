"""The shared generator helpers of the plugin API (``assay.plugins.generating``).

Every generator plugin loads and cleans through these, so their messages, pins and the
order of a batch's results are the same everywhere; the plugins' own tests check bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import torch

from assay import (
    DEMO_BUILD_HINT,
    GenerationRequest,
    Generator,
    ModelRef,
    NullProgress,
    Param,
    Progress,
    RequestResult,
    clean_parameters,
    resolve_model,
    run_in_groups,
    tensor_bytes,
    torch_dtype,
)


class _Gen(Generator):
    id = "helpers-test"
    modality = "text"
    parameters = (Param("size", int, 2, minimum=1, maximum=9),)

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Nothing to load."""

    def generate(self, batch: list[GenerationRequest], progress: Progress
                 ) -> list[RequestResult]:
        """Not used."""
        return []


class _Cancelled(NullProgress):
    def __init__(self, cancelled: set[int]) -> None:
        self.cancelled = cancelled

    def is_cancelled(self, index: int) -> bool:
        return index in self.cancelled


@dataclass
class _Job:
    index: int
    key: str


def _request(job_id: str, **parameters: Any) -> GenerationRequest:
    return GenerationRequest(job_id, "prompt", parameters, seed=3)


def test_clean_parameters_fills_defaults_and_drops_undeclared_names() -> None:
    assert clean_parameters(_Gen, _request("a", other=1, seed=5)) == {"size": 2}
    assert clean_parameters(_Gen(), _request("a", seed=5), include_seed=True) == {
        "size": 2, "seed": 5}


def test_clean_parameters_names_the_job_of_an_invalid_request() -> None:
    with pytest.raises(ValueError, match="request b: invalid parameters"):
        clean_parameters(_Gen, _request("b", size=99))


def test_torch_dtype_names_a_dtype_or_refuses() -> None:
    assert torch_dtype(torch, "bfloat16") is torch.bfloat16
    for bad in ("nope", "Tensor"):
        with pytest.raises(ValueError, match="unknown dtype"):
            torch_dtype(torch, bad)


def test_tensor_bytes_counts_parameters_and_buffers_and_skips_none() -> None:
    layer = torch.nn.BatchNorm1d(4)  # 8 parameters, 9 buffer values (one int64)
    expected = sum(t.numel() * t.element_size() for t in (*layer.parameters(),
                                                          *layer.buffers()))
    assert tensor_bytes(layer, None) == expected == tensor_bytes(layer)
    assert tensor_bytes() == 0


def test_resolve_model_hints_how_to_build_a_missing_demo_folder(tmp_path) -> None:
    missing = str(tmp_path / "absent")
    with pytest.raises(FileNotFoundError) as demo:
        resolve_model(ModelRef(missing, None, "assay-demo-x"), "assay-demo-x")
    assert DEMO_BUILD_HINT in str(demo.value)
    with pytest.raises(FileNotFoundError) as other:
        resolve_model(ModelRef(missing, None, "real"), "assay-demo-x")
    assert DEMO_BUILD_HINT not in str(other.value)


def test_run_in_groups_runs_one_call_a_key_and_keeps_the_batch_order() -> None:
    batch = [_request(str(i)) for i in range(5)]
    calls: list[list[int]] = []

    def plan(index: int, request: GenerationRequest) -> tuple[str, _Job]:
        key = "odd" if index % 2 else "even"
        return key, _Job(index, key)

    def run(jobs: list[_Job]) -> list[RequestResult]:
        calls.append([job.index for job in jobs])
        return [RequestResult(outputs=[], usage={"index": job.index}) for job in jobs]

    results = run_in_groups(batch, _Cancelled({2}), plan, run,
                            cancelled_usage={"seconds": 0.0})
    assert calls == [[0, 4], [1, 3]]
    assert [r.usage for r in results] == [
        {"index": 0}, {"index": 1}, {"seconds": 0.0}, {"index": 3}, {"index": 4}]
    assert results[2].cancelled and not results[0].cancelled
