"""One run on many processes: the torchrun environment and the few collectives the loop needs.

Under ``torchrun --nproc-per-node K -m vvshub.cli train ...`` every process reads
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; the process group uses NCCL on CUDA and
gloo on CPU. A global batch is split across ranks by position, and each rank's loss is
scaled so that DDP's gradient average equals the mean over the whole global batch: a run
on K processes follows a run on 1 with the same global batch. BatchNorm becomes
SyncBatchNorm on CUDA; on CPU (gloo) PyTorch has no SyncBatchNorm, so BatchNorm
statistics stay per process there (models with LayerNorm match exactly).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["DistContext", "dist_context"]


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in a (possibly one-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and records."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for every process (no-op on one)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def broadcast_object(self, obj: object) -> object:
        """Rank 0's ``obj`` on every rank."""
        if not self.distributed:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def dist_context(device_type: str) -> DistContext:
    """Join the process group torchrun describes in the environment (once), or run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return DistContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
