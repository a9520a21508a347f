"""{{ project }}: a PyTorch project made with uvtorch."""
