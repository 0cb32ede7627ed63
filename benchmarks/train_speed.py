"""Training throughput of vvshub against a plain PyTorch loop: same model, data and augmentation.

The hub's bookkeeping (seeded per-image augmentation, loss scaling for DDP, per-epoch
evaluation and checkpoints) must not slow training: the target is at least 0.9x the plain
loop's images/s. Both loops train the same architecture on the same decoded images with
the same albumentations pipeline, batch size, optimiser and schedule; only the training
phase of each epoch is timed (evaluation and checkpoints are not training). The two are
run alternately, epoch by epoch, so a noisy shared machine slows both alike.

    PYTHONPATH=src python benchmarks/train_speed.py                  # CIFAR-10 zip, CPU
    PYTHONPATH=src python benchmarks/train_speed.py --device cuda --image-size 224 --arch resnet50

Prints one JSON object: images/s of each, their ratio, and (on CUDA) GPU utilisation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ZIP = next(
    (
        p
        for p in (
            Path(os.environ.get("VVSHUB_CIFAR10_ZIP", "")),
            REPO.parent / "shared/data/cifar10/cifar10_jpg.zip",
            Path("/work/shared/data/cifar10/cifar10_jpg.zip"),
        )
        if str(p) and p.is_file()
    ),
    None,
)


def plain_epoch(model, images, labels, pipeline, optimizer, scheduler, batch, device, epoch):
    """The loop anyone would write: shuffle, augment, forward, backward, step."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, Dataset

    class Plain(Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            out = pipeline(image=images[i])["image"]
            return torch.from_numpy(out).permute(2, 0, 1), labels[i]

    g = torch.Generator().manual_seed(epoch)
    loader = DataLoader(Plain(), batch_size=batch, shuffle=True, generator=g)
    model.train()
    seen = 0
    start = time.perf_counter()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        seen += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(DEFAULT_ZIP) if DEFAULT_ZIP else None)
    parser.add_argument("--arch", default="resnet18_w0.25")
    parser.add_argument("--samples-per-class", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (plus one warm-up)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    if not args.dataset:
        sys.exit("no data set: pass --dataset or set VVSHUB_CIFAR10_ZIP")

    import torch

    torch.set_num_threads(args.threads)
    from vvshub.trainer import make_config
    from vvshub.trainer._augment import eval_pipeline, train_pipeline
    from vvshub.trainer._data import open_source
    from vvshub.trainer._ddp import DistContext
    from vvshub.trainer._images import ImageSet, labelled, load_split
    from vvshub.trainer._loop import Loop, lr_factor
    from vvshub.trainer._run import build_model

    epochs = args.epochs + 1
    config = make_config(
        args.arch,
        dataset=args.dataset,
        samples_per_class=args.samples_per_class,
        image_size=args.image_size,
        overrides={"epochs": epochs, "batch_size": args.batch_size},
        device=args.device,
        val_samples_per_class=2,
    )
    device = torch.device(args.device)
    source = open_source(config.dataset, name=config.dataset_name)
    manifest, images = load_split(
        source, "train", config.samples_per_class, seed=0, corrupt="skip", cache_gb=8
    )
    val_manifest, val_images = load_split(source, "val", 2, seed=0, corrupt="skip", cache_gb=8)
    items = labelled(manifest, source.classes)
    recipe = config.recipe

    # vvshub: the trainer's own loop (per-epoch evaluation and checkpoints, untimed)
    train_set = ImageSet(
        source, items, train_pipeline(recipe, config.image_size), seed=0, images=images
    )
    val_set = ImageSet(
        source,
        labelled(val_manifest, source.classes),
        eval_pipeline(recipe, config.image_size),
        seed=0,
        images=val_images,
    )
    torch.manual_seed(0)
    loop = Loop(
        config,
        build_model(config, len(source.classes)),
        train_set,
        val_set,
        num_classes=len(source.classes),
        device=device,
        dist=DistContext(),
    )

    # plain: the same model, data, pipeline, optimiser and schedule
    torch.manual_seed(0)
    plain_model = build_model(config, len(source.classes)).to(device)
    optimizer = torch.optim.SGD(
        plain_model.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov,
        weight_decay=recipe.weight_decay,
    )
    steps = math.ceil(len(items) / args.batch_size)
    total, warmup = epochs * steps, round(recipe.warmup_epochs * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: lr_factor(s, total=total, warmup=warmup, min_ratio=recipe.min_lr / recipe.lr),
    )
    plain_pipeline = train_pipeline(recipe, config.image_size)
    labels = [label for _, label in items]

    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        from vvshub.trainer._checkpoint import save_weights

        for epoch in range(epochs):
            p = plain_epoch(
                plain_model, images, labels, plain_pipeline, optimizer, scheduler,
                args.batch_size, device, epoch,
            )  # fmt: skip
            stats = loop.run_epoch(epoch, started=time.perf_counter())
            save_weights(loop.eval_model.state_dict(), Path(tmp) / "model.safetensors", metadata={})
            if epoch:  # the first epoch warms caches and allocators up
                theirs.append(p)
                ours.append(stats.images_per_s)
    result = {
        "arch": config.arch,
        "device": str(device),
        "threads": args.threads,
        "n_images": len(items),
        "image_size": config.image_size,
        "batch_size": args.batch_size,
        "timed_epochs": args.epochs,
        "vvshub_images_per_s": statistics.median(ours),
        "plain_images_per_s": statistics.median(theirs),
    }
    result["ratio"] = result["vvshub_images_per_s"] / result["plain_images_per_s"]
    result["target_ratio"] = 0.9
    result["meets_target"] = result["ratio"] >= 0.9
    if device.type == "cuda":
        try:
            result["gpu_utilization_percent"] = torch.cuda.utilization(device)
        except Exception as exc:  # needs pynvml
            result["gpu_utilization_percent"] = f"unavailable ({type(exc).__name__})"
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
