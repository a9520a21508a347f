"""uvtorch: uv projects that install the right PyTorch build for every accelerator."""

# The single source of the version: hatchling reads it from here when building, and the CLI
# reads it without importlib.metadata, which would cost ~10 ms of start-up.
__version__ = "0.1.0"

__all__ = ["__version__"]
