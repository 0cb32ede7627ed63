"""Hub I/O: push and pull N small models through the local hub and through ``hub serve``.

In one temporary ``VVSHUB_HOME``: push ``--n`` zoo models (a width-scaled ResNet-18 per
model, ``--arch``), pull each back with ``vvshub.pull`` (cold cache), pull each again
(cached: sha256 check plus construction), then start ``vvshub hub serve`` (olah) and
download every repo with huggingface_hub (``snapshot_download``) in a subprocess. Reports
models/s and MB/s of each, against a plain file copy of the same weight bytes. Targets:
a cached ``vvshub.pull`` under 0.5 s plus the model's construction.

Run: ``python benchmarks/hub_io.py [--n 20] [--arch resnetflexfilters-f-1-16-20-12]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HF_CLIENT = """
import json, sys, time
from huggingface_hub import snapshot_download
repos = json.loads(sys.argv[1])
start = time.perf_counter()
for repo in repos:
    snapshot_download(repo)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def _rate(n: int, nbytes: int, seconds: float) -> str:
    return f"{seconds:7.2f} s {n / seconds:8.1f} models/s {nbytes / seconds / 1e6:8.1f} MB/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="models to push and pull")
    parser.add_argument("--arch", default="resnetflexfilters-f-1-16-20-12")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="vvshub-hub-io-"))
    os.environ["VVSHUB_HOME"] = str(home)
    os.environ["VVSHUB_NO_PROGRESS"] = "1"
    import torch

    import vvshub
    from vvshub import ids, zoo
    from vvshub.hub._serve import serve

    try:
        models, names = [], []
        short_arch = ids.short_arch_name(ids.parse_arch(args.arch))
        for i in range(args.n):
            torch.manual_seed(i)
            models.append(zoo.build(args.arch, num_classes=10).eval())
            names.append(f"{short_arch}_d{i + 1}_cifar10")
        construct = time.perf_counter()
        zoo.build(args.arch, num_classes=10)
        construct = time.perf_counter() - construct

        start = time.perf_counter()
        pushed = [vvshub.push(m, n, record=False) for m, n in zip(models, names, strict=True)]
        push_s = time.perf_counter() - start
        nbytes = sum(p.size_bytes for p in pushed)

        start = time.perf_counter()
        for n in names:
            vvshub.pull(n)
        cold_s = time.perf_counter() - start

        times = []
        for n in names:
            t = time.perf_counter()
            vvshub.pull(n)
            times.append(time.perf_counter() - t)
        warm_s = sum(times)

        copy_dir = home / "copy"
        copy_dir.mkdir()
        start = time.perf_counter()
        for p in pushed:
            src = Path(p.location) / ".git" / "lfs" / "objects" / p.sha256[:2] / p.sha256[2:4]
            shutil.copyfile(src / p.sha256, copy_dir / p.sha256)
        copy_s = time.perf_counter() - start

        with serve() as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | {
                "HF_ENDPOINT": server.url,
                "HF_HUB_CACHE": str(home / "hf-cache"),
                "HF_HUB_DISABLE_XET": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            }
            repos = [p.repo_id for p in pushed]
            out = subprocess.run(
                [sys.executable, "-c", _HF_CLIENT, json.dumps(repos)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            serve_s = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]

        n = args.n
        print(f"{n} models of {args.arch}, {nbytes / n / 1e6:.2f} MB of weights each")
        print(f"push (local hub)          {_rate(n, nbytes, push_s)}")
        print(f"pull, cold cache          {_rate(n, nbytes, cold_s)}")
        print(f"pull, cached              {_rate(n, nbytes, warm_s)}")
        print(f"hf snapshot via serve     {_rate(n, nbytes, serve_s)}")
        print(f"plain file copy           {_rate(n, nbytes, copy_s)}")
        worst = max(times)
        print(
            f"cached pull: median {sorted(times)[n // 2]:.3f} s, worst {worst:.3f} s; "
            f"construction alone {construct:.3f} s; target < 0.5 s + construction"
        )
        return 0 if worst < 0.5 + construct else 1
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
