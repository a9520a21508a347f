"""uvtorch: uv projects that install the right PyTorch build for every accelerator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uvtorch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
