"""The training loop: one epoch after another, evaluated and checkpointed after each.

Reproducibility: the seed fixes the subset, the initial weights (``torch.manual_seed``
before the model is built), the data order of every epoch (a generator seeded with
``(seed, epoch)``) and every augmentation (seeded per image, see ``_augment``). The
torch RNG state (drop path) goes into the resume file. A run resumed from epoch N
therefore continues exactly as the uninterrupted run would have (bitwise on CPU with
``deterministic=True``).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vvshub.errors import TrainingError, TrainingOutOfMemoryError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from vvshub.trainer._config import TrainConfig
    from vvshub.trainer._ddp import DistContext
    from vvshub.trainer._images import ImageSet

__all__ = ["Loop", "resolve_device"]

logger = logging.getLogger(__name__)


def resolve_device(spec: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:LOCAL_RANK`` when CUDA is available, else ``cpu``."""
    import torch

    if spec == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise TrainingError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(
            f"device {spec!r} asked for but CUDA is not available; use --device cpu"
        )
    return device


def _seed_int(*parts: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence(list(parts)).generate_state(1, dtype=np.uint64)[0] >> 1)


def lr_factor(step: int, *, total: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``min_ratio`` at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@dataclass
class EpochStats:
    """What one epoch measured."""

    epoch: int
    loss: float
    acc: float
    lr: float
    n_samples_seen: int
    wall_time_s: float
    images_per_s: float


class Loop:
    """Trains one model on one data set with one recipe.

    Args:
        config: the run.
        model: the freshly built model (on CPU).
        train_set: training images.
        val_set: validation images.
        num_classes: classifier outputs.
        device: where to train.
        dist: the process group position.
    """

    def __init__(
        self,
        config: TrainConfig,
        model: nn.Module,
        train_set: ImageSet,
        val_set: ImageSet,
        *,
        num_classes: int,
        device: torch.device,
        dist: DistContext,
    ) -> None:
        import torch

        self.config = config
        self.recipe = config.recipe
        self.device = device
        self.dist = dist
        self.train_set = train_set
        self.val_set = val_set
        self.num_classes = num_classes
        n = len(train_set)
        self.global_batch = min(self.recipe.batch_size, n)
        if self.global_batch < dist.world_size:
            raise TrainingError(
                f"a global batch of {self.global_batch} cannot be split across "
                f"{dist.world_size} processes; use more images or fewer processes"
            )
        self.steps_per_epoch = math.ceil(n / self.global_batch)
        if n % self.global_batch and n % self.global_batch < dist.world_size:
            # A last batch with fewer images than processes would leave a rank with nothing to
            # do (and DDP waiting on it): drop it, on every rank alike.
            self.steps_per_epoch -= 1
        model = model.to(device)
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.module = model
        if dist.distributed:
            from torch.nn.parallel import DistributedDataParallel

            if device.type == "cuda":
                model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
                self.module = model
            model = DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None
            )
        self.model = model
        self.ema = _ema_copy(self.module) if self.recipe.ema_decay else None
        self.optimizer = _optimizer(self.module, self.recipe)
        total = self.recipe.epochs * self.steps_per_epoch
        warmup = round(self.recipe.warmup_epochs * self.steps_per_epoch)
        min_ratio = self.recipe.min_lr / self.recipe.lr

        def factor(step: int) -> float:
            return lr_factor(step, total=total, warmup=warmup, min_ratio=min_ratio)

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.use_amp = device.type == "cuda" and self.recipe.amp

    # -- one epoch ---------------------------------------------------------------------------

    def _batches(self, epoch: int) -> list[list[int]]:
        """This rank's share of every global batch of ``epoch`` (same order on every rank)."""
        import torch

        g = torch.Generator().manual_seed(_seed_int(self.config.seed, epoch, 1))
        perm = torch.randperm(len(self.train_set), generator=g).tolist()
        b, rank, world = self.global_batch, self.dist.rank, self.dist.world_size
        return [perm[s * b : (s + 1) * b][rank::world] for s in range(self.steps_per_epoch)]

    def train_epoch(self, epoch: int) -> tuple[float, int]:
        """One pass over the training set; returns (mean loss, images seen by all ranks)."""
        import numpy as np
        import torch
        import torch.nn.functional as F
        from torch.utils.data import DataLoader

        from vvshub.trainer._augment import mix_batch

        self.model.train()
        self.train_set.set_epoch(epoch)
        batches = self._batches(epoch)
        loader = DataLoader(
            self.train_set,
            batch_sampler=batches,
            num_workers=self.config.num_workers,
            pin_memory=self.device.type == "cuda",
        )
        mixing = self.recipe.mixup_alpha > 0 or self.recipe.cutmix_alpha > 0
        smoothing = self.recipe.label_smoothing
        world = self.dist.world_size
        total_loss = torch.zeros((), device=self.device, dtype=torch.float64)
        seen = 0
        for step, (images, targets) in enumerate(loader):
            global_n = min(self.global_batch, len(self.train_set) - step * self.global_batch)
            images = images.to(self.device, non_blocking=True)
            targets = targets.to(self.device, non_blocking=True)
            if self.device.type == "cuda":
                images = images.contiguous(memory_format=torch.channels_last)
            soft = None
            if mixing:
                rng = np.random.default_rng([self.config.seed, epoch, step, self.dist.rank])
                images, soft = mix_batch(
                    images,
                    targets,
                    num_classes=self.num_classes,
                    mixup_alpha=self.recipe.mixup_alpha,
                    cutmix_alpha=self.recipe.cutmix_alpha,
                    label_smoothing=smoothing,
                    rng=rng,
                )
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_amp):
                logits = self.model(images)
            logits = logits.float()
            if soft is not None:
                loss_sum = -(soft * F.log_softmax(logits, dim=1)).sum()
            else:
                loss_sum = F.cross_entropy(
                    logits, targets, label_smoothing=smoothing, reduction="sum"
                )
            # DDP averages gradients over ranks: scale so the average is the global-batch mean.
            loss = loss_sum * (world / global_n)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.recipe.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.recipe.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            if self.ema is not None:
                _ema_update(self.ema, self.module, self.recipe.ema_decay)
            total_loss += loss_sum.detach()
            seen += global_n
        if self.dist.distributed:
            import torch.distributed as tdist

            tdist.all_reduce(total_loss)
        return float(total_loss) / max(seen, 1), seen

    @property
    def eval_model(self) -> nn.Module:
        """The weights that are evaluated and published (the EMA's when the recipe keeps one)."""
        return self.ema if self.ema is not None else self.module

    def evaluate(self) -> float:
        """Top-1 accuracy on the validation set (computed on rank 0, shared with all)."""
        import torch
        from torch.utils.data import DataLoader

        acc = None
        if self.dist.is_main:
            model = self.eval_model
            was = model.training
            model.eval()
            correct = total = 0
            loader = DataLoader(
                self.val_set,
                batch_size=min(max(self.global_batch, 64), 1024),
                num_workers=self.config.num_workers,
            )
            with torch.no_grad():
                for images, targets in loader:
                    images = images.to(self.device)
                    if self.device.type == "cuda":
                        images = images.contiguous(memory_format=torch.channels_last)
                    with torch.autocast(
                        self.device.type, dtype=torch.bfloat16, enabled=self.use_amp
                    ):
                        logits = model(images)
                    correct += int((logits.argmax(1).cpu() == targets).sum())
                    total += len(targets)
            model.train(was)
            acc = correct / max(total, 1)
        return float(self.dist.broadcast_object(acc))  # type: ignore[arg-type]

    def run_epoch(self, epoch: int, *, started: float) -> EpochStats:
        """Train and evaluate epoch ``epoch`` (0-based); translate out-of-memory errors."""
        t0 = time.perf_counter()
        try:
            loss, seen = self.train_epoch(epoch)
        except Exception as exc:
            _raise_oom(exc, self.global_batch, self.dist.world_size, self.device)
            raise
        train_s = time.perf_counter() - t0
        acc = self.evaluate()
        return EpochStats(
            epoch=epoch + 1,
            loss=loss,
            acc=acc,
            lr=float(self.scheduler.get_last_lr()[0]),
            n_samples_seen=(epoch + 1) * len(self.train_set),
            wall_time_s=time.perf_counter() - started,
            images_per_s=seen / train_s if train_s > 0 else float("nan"),
        )

    # -- state for the resume file -----------------------------------------------------------

    def rng_state(self) -> dict[str, Any]:
        """Torch RNG state (CPU and, on CUDA, every device)."""
        import torch

        state: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def restore(self, state: Any) -> None:
        """Load a :class:`~vvshub.trainer._checkpoint.ResumeState` into model, optimiser, RNG."""
        import torch

        self.module.load_state_dict({k: v.to(self.device) for k, v in state.model.items()})
        if self.ema is not None and state.ema is not None:
            self.ema.load_state_dict({k: v.to(self.device) for k, v in state.ema.items()})
        self.optimizer.load_state_dict(state.optimizer)
        self.scheduler.load_state_dict(state.scheduler)
        torch.set_rng_state(state.rng["torch"])
        if state.rng.get("cuda") and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state.rng["cuda"])


def _optimizer(model: nn.Module, recipe: Any) -> torch.optim.Optimizer:
    import torch

    # No weight decay on norms and biases (1-D parameters), as every one of the three recipes.
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": recipe.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov
        )
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=recipe.lr, betas=(recipe.momentum, 0.999))
    from timm.optim import Lamb

    return Lamb(groups, lr=recipe.lr, betas=(recipe.momentum, 0.999))


def _ema_copy(model: nn.Module) -> nn.Module:
    import copy

    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    import torch

    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
            if e.dtype.is_floating_point:
                e.lerp_(m, 1.0 - decay)
            else:
                e.copy_(m)


def _raise_oom(exc: BaseException, batch: int, world: int, device: torch.device) -> None:
    import torch

    oom = isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
    )
    if not oom:
        return
    per_device = math.ceil(batch / world)
    raise TrainingOutOfMemoryError(
        f"out of memory on {device} with a batch of {per_device} images per device; retry with "
        f"--batch-size {max(1, batch // 2)} (or more processes under torchrun)",
        batch_size=per_device,
    ) from exc
