"""The accelerator setup works: torch imports, a device is chosen, training converges."""

import torch

from {{ package }}.device import pick_device
from {{ package }}.train import train


def test_a_device_is_chosen() -> None:
    assert isinstance(pick_device(), torch.device)


def test_training_converges() -> None:
    losses = train(steps=200)
    assert losses[-1] < losses[0] / 100
