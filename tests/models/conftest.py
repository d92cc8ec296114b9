"""Shared setup of the model tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The PyTorch twins run on one thread: on a shared 2-core machine torch's thread pool
    thrashes (several times slower), and the comparison needs no speed."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
