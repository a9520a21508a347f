"""Train a tiny model on synthetic data: a smoke test of the accelerator setup.

Run it with the extra you synced, e.g. `{{ run_command }} python -m {{ package }}.train`.
"""

import torch

from {{ package }}.device import describe, pick_device


def train(steps: int = 200, seed: int = 0) -> list[float]:
    """Fit y = 3x + 1 with a linear layer; return the loss after each step."""
    torch.manual_seed(seed)
    device = pick_device()
    x = torch.linspace(-1, 1, 256, device=device).unsqueeze(1)
    y = 3 * x + 1
    model = torch.nn.Linear(1, 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main() -> None:
    print(describe())
    losses = train()
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.6f}")


if __name__ == "__main__":
    main()
