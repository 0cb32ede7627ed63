"""Brain-Score's PLS metric and ceiling against vvshub's, on the same assembly, in one run.

The assembly has MajajHong2015's shape: 2,560 stimuli (64 objects x 40 images), 168
neuroids, 50 repetitions for the ceiling; model features of 2,000 and 10,000 units (and
50,000 with --full: Brain-Score then takes ~25 minutes and 3.5 GB here). Brain-Score
runs in the lean oracle environment (`make oracle`), in a subprocess, on the same arrays,
splits and seeds; both scores are printed with the speed ratio. Target: >= 20x at 10,000
features on the CPU, at equal scores.

    python benchmarks/scorer_speed.py [--full] [--features 2000,10000] [--threads=1] [--oracle-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# BLAS threads are set before numpy loads (here and in the Brain-Score subprocess): on a shared
# machine, multi-threaded BLAS spins and inflates both wall and CPU time. --threads overrides.
_THREADS = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--threads=")), "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _THREADS

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from vvshub.scorer import split_half_ceiling, stratified_shuffle_split  # noqa: E402
from vvshub.scorer._metrics import cross_validated_regression  # noqa: E402

ORACLE = REPO / "tests" / "scorer" / "oracle" / "run_brainscore.py"


def _data(n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_obj, per_obj, n_neuroids = 64, 40, 168
    n = n_obj * per_obj
    objects = np.array([f"obj{i // per_obj:02d}" for i in range(n)])
    ids = np.array([f"s{i:05d}" for i in range(n)])
    latent = rng.normal(size=(n, 60)) + rng.normal(size=(n_obj, 60))[np.arange(n) // per_obj]
    features = np.maximum(latent @ rng.normal(size=(60, n_features)) / 8, 0) + 0.3 * rng.normal(
        size=(n, n_features)
    )
    responses = latent[:, :40] @ rng.normal(size=(40, n_neuroids)) / 6 + rng.normal(
        size=(n, n_neuroids)
    )
    return ids, objects, features.astype(np.float32), responses


def _oracle(python: Path, **arrays) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.npz"
        np.savez(path, **arrays)
        env = {**os.environ, "BS_INSTALL_DEPENDENCIES": "no", "PYTHONPATH": ""}
        proc = subprocess.run(
            [str(python), str(ORACLE), str(path)], capture_output=True, text=True, env=env
        )
    if proc.returncode != 0:
        sys.exit(f"brainscore oracle failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", default="2000,10000")
    parser.add_argument("--full", action="store_true", help="also 50,000 features (~25 min)")
    parser.add_argument("--oracle-python", default=str(REPO / ".oracle-venv" / "bin" / "python"))
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--threads", default="1", help="BLAS threads of both sides (--threads=N)")
    args = parser.parse_args()
    python = Path(args.oracle_python)
    if not python.exists():
        sys.exit(f"oracle environment missing at {python}; run `make oracle`")
    sizes = [int(s) for s in args.features.split(",") if s.strip().isdigit()]
    sizes += [50_000] if args.full else []
    ok = True
    for p in sizes:
        ids, objects, features, responses = _data(p)
        bs = _oracle(
            python,
            features=features.astype(np.float64),
            responses=responses,
            stimulus_ids=ids,
            object_names=objects,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        splits = stratified_shuffle_split(objects, n_splits=10, train_size=0.9, seed=1)
        ours = cross_validated_regression(features, responses, splits)
        ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
        ratio = bs["pls_seconds"] / ours_s
        cpu_ratio = bs["pls_cpu_seconds"] / ours_cpu
        diff = ours.raw - bs["pls"]
        # The machine is shared: CPU time (all threads of each process) is the fairer ratio.
        print(
            f"PLS 2560 x 168, {p:>6,} features: wall brainscore {bs['pls_seconds']:7.1f} s "
            f"vvshub {ours_s:6.2f} s ({ratio:5.1f}x) | CPU brainscore {bs['pls_cpu_seconds']:7.1f} s "
            f"vvshub {ours_cpu:6.2f} s ({cpu_ratio:5.1f}x) | score brainscore {bs['pls']:.6f} "
            f"vvshub {ours.raw:.6f} diff {diff:+.1e}",
            flush=True,
        )
        ok &= abs(diff) < 1e-3 and (p != 10_000 or max(ratio, cpu_ratio) >= 20)
    if not args.no_ceiling:
        rng = np.random.default_rng(1)
        n, m, reps = 2560, 168, 50
        signal = rng.normal(size=(n, m))
        trials = np.concatenate([signal + 3 * rng.normal(size=(n, m)) for _ in range(reps)])
        rep = np.repeat(np.arange(reps), n)
        ids = np.array([f"s{i:05d}" for i in range(n)])
        bs = _oracle(python, trials=trials, trial_stimulus_ids=np.tile(ids, reps), repetition=rep)
        t0, c0 = time.perf_counter(), time.process_time()
        ours = split_half_ceiling(trials, np.tile(np.arange(n), reps), rep)
        ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
        diff = ours.ceiling - bs["ceiling"]
        print(
            f"ceiling {n * reps:,} trials x {m}: wall brainscore {bs['ceiling_seconds']:.1f} s "
            f"vvshub {ours_s:.2f} s ({bs['ceiling_seconds'] / ours_s:.1f}x) | CPU brainscore "
            f"{bs['ceiling_cpu_seconds']:.1f} s vvshub {ours_cpu:.2f} s "
            f"({bs['ceiling_cpu_seconds'] / ours_cpu:.1f}x) | brainscore {bs['ceiling']:.6f} "
            f"vvshub {ours.ceiling:.6f} diff {diff:+.1e}"
        )
        ok &= abs(diff) < 1e-3
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
