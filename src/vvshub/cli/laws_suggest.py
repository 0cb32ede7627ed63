"""`vvshub laws suggest`: the next training runs that most sharpen a law, for a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vvshub.cli._common import CatalogOpt, JsonOpt, print_json
from vvshub.cli.laws import FormOpt, SeedOpt, SqlOpt, XScaleOpt, _scales, _with_warnings, laws_app

BudgetOpt = Annotated[
    float | None,
    typer.Option(
        "--budget", help="Training compute to spend, in FLOPs (e.g. 1e19).", show_default=False
    ),
]


@laws_app.command("suggest")
def suggest_cmd(
    sql: SqlOpt,
    budget: BudgetOpt = None,
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="What to sharpen: flops=C (the predicted score at compute C), param=NAME "
            "(E, A, alpha, ...) or allocation (the joint law's a' = beta/(alpha+beta)).",
        ),
    ] = "flops=1e20",
    form: FormOpt = "power",
    x_scale: XScaleOpt = 1e13,
    n_scale: Annotated[float, typer.Option("--n-scale", help="Divisor of n (chinchilla).")] = 1e5,
    d_scale: Annotated[float, typer.Option("--d-scale", help="Divisor of d (chinchilla).")] = 1e4,
    candidates: Annotated[
        str,
        typer.Option(
            "--candidates",
            help="grid (the zoo's trainable grid: every architecture and width/depth variant x "
            "samples per class x imagenet/ecoset) or a SQL query returning runs with cost "
            "(FLOPs) and the law's inputs.",
        ),
    ] = "grid",
    x_column: Annotated[
        str | None,
        typer.Option(
            "--x-column",
            help="Candidate column that is the law's x (default: inferred from --sql).",
        ),
    ] = None,
    max_runs: Annotated[int, typer.Option("--max-runs", help="Most runs to suggest.", min=1)] = 10,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap replicates per expected band.", min=20)
    ] = 100,
    shortlist: Annotated[
        int,
        typer.Option("--shortlist", help="Candidates per step checked by bootstrap refits.", min=1),
    ] = 4,
    seed: SeedOpt = 0,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the plan as a sweep file for `vvshub sweep` (a list of one-run grids).",
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help="NAME=SPEC: the data set spec to write for a data set in the sweep files "
            "(e.g. imagenet=/data/imagenet); default: a folder NAME beside them.",
        ),
    ] = None,
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest",
            help="Instead of planning: hide models of --sql, let suggest choose among them, "
            "reveal and refit, and compare with equal-cost random picks and largest-first.",
        ),
    ] = False,
    seeds: Annotated[
        int, typer.Option("--seeds", help="Backtest repetitions (different hidden sets).", min=1)
    ] = 5,
    hide: Annotated[
        float, typer.Option("--hide", help="Backtest: fraction of models hidden at random.")
    ] = 0.5,
    visible_below: Annotated[
        float | None,
        typer.Option(
            "--visible-below",
            help="Backtest: also hide every model at or above this compute (a frontier to reach).",
        ),
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Suggest the training runs that most narrow a law's band per FLOP, within a budget."""
    if budget is None:
        raise typer.BadParameter(
            "give the compute to spend, e.g. --budget 1e19", param_hint="--budget"
        )
    scales = _scales(form, x_scale, n_scale, d_scale)
    if backtest:
        _backtest(
            sql,
            form,
            scales,
            budget,
            target,
            max_runs,
            bootstrap,
            shortlist,
            seeds,
            hide,
            visible_below,
            catalog,
            as_json,
        )
        return
    from vvshub.laws import suggest_runs, write_sweep

    data_specs = _data_specs(data or [])
    plan = _with_warnings(
        lambda: suggest_runs(
            sql,
            budget=budget,
            target=target,
            form=form,
            scales=scales,
            candidates=candidates,
            max_runs=max_runs,
            seed=seed,
            n_bootstrap=bootstrap,
            shortlist=shortlist,
            x_column=x_column,
            catalog=catalog,
        )
    )
    written = write_sweep(plan, output, data=data_specs) if output is not None else []
    if as_json:
        out = plan.to_dict()
        out["sweep_files"] = [str(p) for p in written]
        print_json(out)
        return
    _render(plan, written)


def _data_specs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise typer.BadParameter(f"expected NAME=SPEC, got {item!r}", param_hint="--data")
        out[name.strip()] = spec.strip()
    return out


def _render(plan, written) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    lo, hi = plan.band
    console.print(
        Text(
            f"target {plan.target}: {_num(plan.value)} now, {plan.level:.0%} band "
            f"[{_num(lo)}, {_num(hi)}] (width {_num(plan.width)})"
        )
    )
    table = Table(
        title=f"suggested runs: {len(plan.runs)}, {plan.spent:.3g} of {plan.budget:.3g} FLOPs "
        f"(greedy {plan.mode})",
        header_style="bold",
    )
    table.add_column("#", justify="right")
    table.add_column("run", overflow="fold", min_width=14)
    for col in ("FLOPs", "total", "score", "band", "width"):
        table.add_column(col, justify="right", no_wrap=col != "band")
    for r in plan.runs:
        a, b = r.score_band
        table.add_row(
            str(r.rank),
            Text(r.label + ("" if r.confirmed else " *")),
            f"{r.cost:.3g}",
            f"{r.cumulative_cost:.3g}",
            _num(r.score),
            f"[{a:.3f}, {b:.3f}]",
            _num(r.width_after),
        )
    console.print(table)
    console.print(
        Text(
            "total: cumulative FLOPs; score: the current law's prediction for the run, with its "
            "band; width: the target's expected band width once the runs so far are added",
            style="dim",
        )
    )
    change = (plan.width_after / plan.width - 1.0) if plan.width else float("nan")
    console.print(
        Text(
            f"expected band width after the plan: {_num(plan.width_after)} ({change:+.1%}); "
            f"stopped: {plan.stop_reason}"
        )
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for note in plan.notes:
        err.print(Text("note: ", style="bold yellow") + Text(note))
    if any(not r.confirmed for r in plan.runs):
        err.print(Text("* chosen by the linearised ranking; refits saw no gain beyond noise"))
    for path in written:
        console.print(Text(f"wrote {path}"))


def _backtest(
    sql,
    form,
    scales,
    budget,
    target,
    max_runs,
    bootstrap,
    shortlist,
    seeds,
    hide,
    visible_below,
    catalog,
    as_json,
) -> None:
    from vvshub.laws import backtest_suggest

    bt = _with_warnings(
        lambda: backtest_suggest(
            sql,
            form=form,
            scales=scales,
            budget=budget,
            target=target,
            max_runs=max_runs,
            n_bootstrap=bootstrap,
            shortlist=shortlist,
            seeds=tuple(range(seeds)),
            hide=hide,
            visible_below=visible_below,
            catalog=catalog,
        )
    )
    if as_json:
        print_json(bt.to_dict())
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    table = Table(title=f"backtest of laws suggest, target {bt.target}", header_style="bold")
    for col in ("seed", "strategy", "runs", "FLOPs", "band width", "held-out MAE"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for row in bt.rows:
        table.add_row(
            str(row.seed),
            row.strategy,
            str(row.n_runs),
            f"{row.spent:.3g}",
            f"{row.width:.4g}",
            f"{row.mae:.4f}",
        )
    console.print(table)
    for line in bt.summary_lines():
        console.print(Text(line))


def register(app: typer.Typer) -> None:
    """``laws suggest`` lives on the ``laws`` group, registered by ``vvshub.cli.laws``."""
    del app  # the command is attached to laws_app when this module is imported


def _num(v: float) -> str:
    return "—" if v is None or v != v else f"{v:.4f}"
