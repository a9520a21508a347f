"""What `-a system` is called: the accelerator (and extra) that uses the environment's torch.

Kept apart from the modules that act on it so that the CLI can name the choices without
importing them (start-up time).
"""

SYSTEM = "system"  # the accelerator id, and the extra's name beside index builds

# Where an image keeps its torch; each needs its own way of giving the project that torch.
SYSTEM_LAYOUTS = ("base-interpreter", "image-venv")
