"""Fixtures the generator plugins' tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def one_thread() -> Iterator[None]:
    """torch on one thread for the session: the demo models' operations are tiny, and on a
    shared two-core machine two spinning threads make every call several times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
