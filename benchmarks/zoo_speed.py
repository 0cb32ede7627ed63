"""Speed of building and counting the zoo's architectures on the CPU.

For every architecture of the study's grid (and a few of vvshub's variants): the time of
``vvshub.zoo.build(arch)`` (random weights, CPU), of ``build(arch, device="meta")`` and of
``vvshub.zoo.count(arch)`` (shapes only). Each build is timed ``--repeat`` times in this
process and the best is kept (the first build of a process also pays for importing timm,
done before timing). Targets: every build under 2 s, every count under 1 s.

Run: ``python benchmarks/zoo_speed.py [--repeat 2] [ARCH ...]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        del result
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archs", nargs="*", help="architectures (default: the study's grid)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from vvshub import zoo

    torch.set_num_threads(max(1, torch.get_num_threads()))
    zoo.build("resnet18", device="meta")  # import timm and register the zoo's models first
    archs = args.archs or [
        *zoo.list_archs(),
        "resnet18_w0.5",
        "convnext_tiny_w0.7",
        "deit_small_w0.5_dp6",
    ]
    slow = []
    print(f"{'arch':34s} {'params':>12s} {'build s':>8s} {'meta s':>7s} {'count s':>8s}")
    for arch in archs:
        build_s = _best(lambda a=arch: zoo.build(a), args.repeat)
        meta_s = _best(lambda a=arch: zoo.build(a, device="meta"), args.repeat)
        count_s = _best(lambda a=arch: zoo.count(a), args.repeat)
        n = zoo.count(arch).n_params
        print(f"{arch:34s} {n:12,d} {build_s:8.2f} {meta_s:7.2f} {count_s:8.2f}")
        if build_s > 2.0 or count_s > 1.0:
            slow.append(arch)
    print(f"over target: {', '.join(slow) if slow else 'none'}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
