"""Pick the best device this machine's torch build can use."""

import torch


def pick_device() -> torch.device:
    """CUDA (NVIDIA, and AMD through ROCm builds), then Intel XPU, then Apple MPS, then CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        return torch.device("xpu")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe() -> str:
    """One line about the torch build and the device it will use."""
    return f"torch {torch.__version__} on {pick_device()}"
