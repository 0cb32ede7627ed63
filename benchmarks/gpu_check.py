"""The scorer's GPU path against its CPU path, in one run: the script to run when a device is lent.

Checks, each printed with its numbers and PASS/FAIL:

1. Activations: a random ``resnet18`` (seeded) at three layers on 256 generated images, on
   the CPU in fp32 and on CUDA in fp32, bf16 (the default there) and fp16. fp32 must agree to
   1e-4 relative (max abs difference over max abs value); bf16/fp16 to 5e-2.
2. Ridge regression (torch) on CUDA against the CPU, same splits: scores equal to 1e-6.
3. Speed: images per second of the forward pass, CPU fp32 against CUDA bf16, and the ridge's
   seconds on each.

Exit status: 0 when every check passes, 1 when one fails, 2 without a CUDA device (nothing is
checked then). Needs no data files: the images are generated. Run from the repository root:

    python benchmarks/gpu_check.py [--images 256] [--batch-size 64]

``--device cpu`` runs the same comparisons with the CPU on both sides: a dry run of the script
itself where no device is lent.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

import numpy as np


def make_stimuli(n: int):
    """``n`` seeded random-texture PNG images (64 px) as a :class:`StimulusSet`."""
    from PIL import Image

    from vvshub.scorer._data import StimulusSet

    rng = np.random.default_rng(0)
    blobs = []
    for _ in range(n):
        low = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(low).resize((64, 64), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        blobs.append(buf.getvalue())
    return StimulusSet(
        name="gpu-check", stimulus_ids=tuple(f"img{i}" for i in range(n)), load=blobs.__getitem__
    )


def relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference over the largest absolute value."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda", help="the side compared with the CPU")
    args = parser.parse_args(argv)
    dev = args.device

    import timm
    import torch

    from vvshub.scorer._activations import extract
    from vvshub.scorer._metrics import cross_validated_regression
    from vvshub.scorer._splits import shuffle_split

    if dev == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: nothing checked")
        return 2
    name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu (dry run)"
    print(f"device: {name}, torch {torch.__version__}")
    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False, num_classes=10)
    stimuli = make_stimuli(args.images)
    layers = ["layer1.0", "layer3.1", "global_pool"]
    ok = True

    def run(device: str, precision: str) -> tuple[dict[str, np.ndarray], float]:
        t0 = time.perf_counter()
        feats = extract(
            model, stimuli, layers, batch_size=args.batch_size, device=device, precision=precision
        )
        if device == "cuda":
            torch.cuda.synchronize()
        return feats, time.perf_counter() - t0

    cpu, t_cpu = run("cpu", "fp32")
    run(dev, "fp32")  # warm-up: CUDA context, cuDNN autotuning
    for precision, tol in (("fp32", 1e-4), ("bf16", 5e-2), ("fp16", 5e-2)):
        gpu, t_gpu = run(dev, precision)
        gaps = {layer: relative_gap(gpu[layer], cpu[layer]) for layer in layers}
        passed = all(g <= tol for g in gaps.values())
        ok &= passed
        gap_text = ", ".join(f"{k} {v:.1e}" for k, v in gaps.items())
        print(
            f"activations {dev} {precision}: {args.images / t_gpu:,.0f} img/s "
            f"(cpu fp32 {args.images / t_cpu:,.0f} img/s, {t_cpu / t_gpu:.1f}x); "
            f"relative gap {gap_text} (tol {tol:g}) {'PASS' if passed else 'FAIL'}"
        )

    rng = np.random.default_rng(1)
    x = cpu["global_pool"]
    # 40 neuroids that read a few standardised units each, plus noise: a learnable map
    z = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)
    y = z[:, :8] @ rng.standard_normal((8, 40)) + rng.standard_normal((len(x), 40))
    splits = shuffle_split(len(x), train_size=0.9)
    timings = {}
    results = {}
    for device in ("cpu", dev):
        t0 = time.perf_counter()
        results[device] = cross_validated_regression(x, y, splits, method="ridge", device=device)
        timings[device] = time.perf_counter() - t0
    diff = abs(results[dev].raw - results["cpu"].raw)
    passed = diff <= 1e-6
    ok &= passed
    print(
        f"ridge: cpu raw {results['cpu'].raw:.8f} in {timings['cpu']:.2f} s, {dev} raw "
        f"{results[dev].raw:.8f} in {timings[dev]:.2f} s; difference {diff:.1e} "
        f"(tol 1e-6) {'PASS' if passed else 'FAIL'}"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
