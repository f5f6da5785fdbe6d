"""Principal component analysis, for two uses: the Latent tab's map of a model's codes, and the evaluation's
yardstick (the best purely linear code of a given size)."""

import torch


def principal_axes(data: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean (D,), top `count` principal directions (D, count), most variance first, and each one's share of the
    total variance (count,), of the rows of `data` (N, D), in float64."""
    data = data.flatten(1).double()
    mean = data.mean(0)
    eigenvalues, vectors = torch.linalg.eigh(torch.cov((data - mean).T))
    top = eigenvalues.argsort(descending=True)[:count]
    return mean, vectors[:, top], eigenvalues[top] / eigenvalues.clamp_min(0).sum()


class PCA(torch.nn.Module):
    """The best linear code of a given size: project on the top principal components, clip to [0, 1]."""

    def __init__(self, train_images: torch.Tensor, components: int):
        super().__init__()
        self.mean, self.basis, _ = principal_axes(train_images, components)

    def leading(self, components: int) -> "PCA":
        """The same fit kept to its first `components` components: PCA of that size, without fitting again."""
        smaller = PCA.__new__(PCA)
        torch.nn.Module.__init__(smaller)
        smaller.mean, smaller.basis = self.mean, self.basis[:, :components]
        return smaller

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1).double() - self.mean
        return (flat @ self.basis @ self.basis.T + self.mean).clamp(0, 1).float().reshape(x.shape)
