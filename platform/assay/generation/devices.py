"""Which device and dtype a worker runs models on."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device string and the dtype name to load models in."""

    device: str
    dtype: str


def choose_device(setting: str = "auto") -> DeviceChoice:
    """CUDA (bf16 where supported, else fp16), then Apple MPS, then CPU (fp32).

    ``setting`` is ASSAY_DEVICE: ``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:N``.
    """
    import torch

    wanted = (setting or "auto").strip().lower()
    if wanted.startswith("cuda") or (wanted == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("ASSAY_DEVICE asks for CUDA but no CUDA device is available")
        device = wanted if wanted.startswith("cuda") else "cuda"
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return DeviceChoice(device, dtype)
    mps = getattr(torch.backends, "mps", None)
    if wanted == "mps" or (wanted == "auto" and mps is not None and mps.is_available()):
        return DeviceChoice("mps", "float16")
    if wanted not in ("auto", "cpu"):
        raise RuntimeError(f"ASSAY_DEVICE={setting!r} is not auto, cpu, mps, cuda or cuda:N")
    return DeviceChoice("cpu", "float32")


def configure_cpu_threads(threads: int = 0) -> int:
    """Set torch's intra-op threads: the setting, else one per core this process may use.

    Leaving torch's default on a shared node oversubscribes cores when several workers
    run side by side; the affinity mask is what this container was given.
    """
    import torch

    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()
