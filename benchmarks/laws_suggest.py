"""Backtest and speed of ``vvshub laws suggest`` on the study's compute -> neural selection.

Backtest (``vvshub.laws.backtest_suggest``): for each seed, hide models of the selection,
let ``suggest`` choose among the hidden ones under a budget, reveal their measured scores
and refit with the usual bootstrap; do the same for equal-cost random picks (same spend,
same run cap) and for "largest compute first" (same budget and run cap), and for no new
run. Compared: the realised 95% band width of the predicted neural alignment at 1e20
FLOPs, and the mean absolute error on the hidden models no plan took. Two scenarios:

* ``random-half``: half of the models hidden at random;
* ``frontier``: half hidden at random and every model at or above 1e18 FLOPs hidden too,
  so the plans must reach past the visible data.

Printed: per-seed rows and, per scenario, the geometric-mean ratios baseline/suggest
(> 1: suggest is better). Target: random/suggest band width >= 1.5.

Speed: ranking 1,000 candidates of the zoo's grid (architectures x samples per class x
ImageNet/EcoSet, costed through ``vvshub.zoo``) for the compute -> neural law with the
default settings. Target: under 30 s. Counting the architectures is timed separately.

Run: ``python benchmarks/laws_suggest.py [--catalog PATH | --reference DIR] [--seeds K]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reference"
TARGET_RATIO = 1.5
TARGET_SECONDS = 30.0
BUDGET = 1e19
SCENARIOS = {"random-half": None, "frontier": 1e18}


def _catalog(args: argparse.Namespace, tmp: Path) -> str:
    if args.catalog:
        return args.catalog
    from vvshub.catalog import import_reference

    ref = args.reference
    if not (ref / "benchmark_scores.csv").exists():
        ref = Path("/work/shared/data/reference")
    path = tmp / "catalog.duckdb"
    import_reference(ref, catalog=path)
    return str(path)


def speed(catalog: str, n_candidates: int) -> tuple[float, float, int]:
    """Seconds to count the grid, seconds to rank ``n_candidates`` of it, runs chosen."""
    from vvshub.laws import grid_candidates, suggest_runs
    from vvshub.laws._selections import COMPUTE_NEURAL

    t0 = time.perf_counter()
    grid = grid_candidates(samples_per_class=(1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 0))
    t_count = time.perf_counter() - t0
    pick = np.random.default_rng(0).permutation(len(grid))[:n_candidates]
    cands = grid.iloc[np.sort(pick)].reset_index(drop=True)
    t0 = time.perf_counter()
    plan = suggest_runs(
        COMPUTE_NEURAL, budget=BUDGET, scales=(1e13,), candidates=cands, catalog=catalog
    )
    t_rank = time.perf_counter() - t0
    print(
        f"speed: {len(cands)} candidates ranked in {t_rank:.1f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {'met' if t_rank < TARGET_SECONDS else 'NOT met'}); "
        f"{len(plan.runs)} runs, {plan.spent:.3g} FLOPs, band width {plan.width:.4f} -> "
        f"{plan.width_after:.4f} expected; counting {len(grid)} grid runs took {t_count:.1f} s",
        flush=True,
    )
    for r in plan.runs:
        print(f"  {r.rank:2d} {r.label:45s} {r.cost:9.3g} FLOPs  width after {r.width_after:.4f}")
    return t_rank, t_count, len(plan.runs)


def backtest(catalog: str, seeds: int) -> dict[str, float]:
    """Run both scenarios; print rows and ratios; return random/suggest per scenario."""
    from vvshub.laws import backtest_suggest
    from vvshub.laws._selections import COMPUTE_NEURAL

    out = {}
    for name, cut in SCENARIOS.items():
        t0 = time.perf_counter()
        bt = backtest_suggest(
            COMPUTE_NEURAL,
            budget=BUDGET,
            scales=(1e13,),
            seeds=tuple(range(seeds)),
            hide=0.5,
            visible_below=cut,
            catalog=catalog,
        )
        print(f"\nscenario {name} ({seeds} seeds, {time.perf_counter() - t0:.0f} s)")
        print("seed strategy  runs      FLOPs  band@1e20  held-out MAE")
        for r in bt.rows:
            print(
                f"{r.seed:4d} {r.strategy:8s} {r.n_runs:5d} {r.spent:10.3g} {r.width:10.4f} "
                f"{r.mae:13.4f}"
            )
        for line in bt.summary_lines():
            print("  " + line)
        out[name] = bt.ratio("random")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", help="a vvshub catalog (default: import the reference)")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--seeds", type=int, default=10, help="backtest repetitions")
    parser.add_argument("--candidates", type=int, default=1000, help="candidates to rank")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("VVSHUB_NO_PROGRESS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("VVSHUB_HOME", tmp)
        catalog = _catalog(args, Path(tmp))
        ok = True
        if not args.skip_speed:
            t_rank, _, _ = speed(catalog, args.candidates)
            ok &= t_rank < TARGET_SECONDS
        if not args.skip_backtest:
            ratios = backtest(catalog, args.seeds)
            print()
            for name, r in ratios.items():
                met = "met" if r >= TARGET_RATIO else "NOT met"
                print(f"{name}: random/suggest band width x{r:.3f} (target >= 1.5: {met})")
                ok &= r >= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
