"""Seeded sparse random projections: cheap, shared, reproducible feature reductions.

Entries of the (p, k) matrix are ``+-sqrt(s / k)`` with probability ``1 / (2 s)`` each
and 0 otherwise, ``s = sqrt(p)`` (Li, Hastie & Church 2006), so squared distances are
preserved in expectation. The matrix depends only on (p, k, seed): every model and
checkpoint scored with the same seed is projected the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["SparseRandomProjection"]


@dataclass(frozen=True)
class SparseRandomProjection:
    """Project p features to k dimensions.

    Attributes:
        n_features: p.
        n_components: k.
        seed: seed of the matrix.

    Example:
        >>> import torch
        >>> proj = SparseRandomProjection(10_000, 100, seed=0)
        >>> proj.apply(torch.ones(2, 10_000)).shape
        torch.Size([2, 100])
    """

    n_features: int
    n_components: int
    seed: int = 0
    _matrix: list = field(default_factory=list, repr=False, compare=False)

    @property
    def spec(self) -> str:
        """Short text form, e.g. ``srp-1000-seed0`` (recorded with scores, part of cache keys)."""
        return f"srp-{self.n_components}-seed{self.seed}"

    def matrix(self, device: torch.device | None = None) -> torch.Tensor:
        """The (k, p) projection as a sparse CSR tensor (built once)."""
        import torch

        if not self._matrix:
            p, k = self.n_features, self.n_components
            s = math.sqrt(p)
            rng = np.random.default_rng([self.seed, p, k])
            nnz_per_row = rng.binomial(p, 1.0 / s, size=k)
            cols = np.concatenate(
                [np.sort(rng.choice(p, size=n, replace=False)) for n in nnz_per_row]
            )
            signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=len(cols))
            values = signs * np.float32(math.sqrt(s / k))
            crow = np.concatenate([[0], np.cumsum(nnz_per_row)])
            import warnings

            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore", UserWarning)
                csr = torch.sparse_csr_tensor(
                    torch.as_tensor(crow, dtype=torch.int64),
                    torch.as_tensor(cols, dtype=torch.int64),
                    torch.as_tensor(values),
                    (k, p),
                    check_invariants=False,
                )
            self._matrix.append(csr)
        m = self._matrix[0]
        return m.to(device) if device is not None else m

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Project a batch: (n, p) -> (n, k)."""
        if x.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {x.shape[1]}")
        m = self.matrix(x.device)
        return (m @ x.float().T).T

    def apply_numpy(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """Project a numpy array (n, p) -> (n, k), float32."""
        import torch

        out = [
            self.apply(torch.as_tensor(np.ascontiguousarray(x[i : i + batch]))).numpy()
            for i in range(0, len(x), batch)
        ]
        return np.concatenate(out).astype(np.float32, copy=False)
