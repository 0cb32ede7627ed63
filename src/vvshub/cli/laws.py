"""`vvshub laws fit|paper|plot|backtest` and `vvshub predict`: scaling laws from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from vvshub._format import format_number
from vvshub.cli._common import CatalogOpt, JsonOpt, print_json, print_text, print_warning

T = TypeVar("T")

laws_app = typer.Typer(
    name="laws",
    help="Scaling laws fitted straight from catalog SQL (the paper's method, fast).",
    no_args_is_help=True,
)

SqlOpt = Annotated[
    str,
    typer.Option(
        "--sql",
        help="Query over the catalog returning columns x, score (n, d, score for chinchilla).",
    ),
]
FormOpt = Annotated[
    str,
    typer.Option(
        "--form", help="Law form: power (eq. 1), power_shift (eq. 3) or chinchilla (eq. 5)."
    ),
]
XScaleOpt = Annotated[float, typer.Option("--x-scale", help="Divisor of x (the paper: C/1e13).")]
NScaleOpt = Annotated[
    float, typer.Option("--n-scale", help="Divisor of n (chinchilla; the paper: 1e5).")
]
DScaleOpt = Annotated[
    float, typer.Option("--d-scale", help="Divisor of d (chinchilla; the paper: 1e4).")
]
BootstrapOpt = Annotated[
    int, typer.Option("--bootstrap", help="Row resamples for the intervals; 0 skips them.", min=0)
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed of numpy.random.default_rng for resamples.")
]


def _scales(form: str, x_scale: float, n_scale: float, d_scale: float) -> tuple[float, ...]:
    from vvshub.laws import get_form

    try:
        spec = get_form(form)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--form") from None
    return (n_scale, d_scale) if spec.n_inputs == 2 else (x_scale,)


def _with_warnings(fn: Callable[[], T]) -> T:
    """Run ``fn``; print each warning it raised as one line on stderr."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    for w in caught:
        kind = "convergence" if w.category.__name__ == "ConvergenceWarning" else "warning"
        print_warning(str(w.message), kind=kind)
    return result


def _print_notes(notes: list[str]) -> None:
    """Print stored caveats of a reused fit (or a prediction), one line each on stderr."""
    for note in notes:
        print_warning(str(note))


def _fmt(v: float, digits: int = 4) -> str:
    return format_number(v, digits=digits, missing="—")


@laws_app.command("fit")
def fit_cmd(
    sql: SqlOpt,
    form: FormOpt = "power",
    x_scale: XScaleOpt = 1.0,
    n_scale: NScaleOpt = 1.0,
    d_scale: DScaleOpt = 1.0,
    bootstrap: BootstrapOpt = 1000,
    seed: SeedOpt = 42,
    delta: Annotated[
        float, typer.Option("--delta", help="Huber threshold of the objective.")
    ] = 1e-3,
    drop_missing: Annotated[
        bool,
        typer.Option("--drop-missing", help="Drop rows with NULL/NaN values (and say how many)."),
    ] = False,
    reuse: Annotated[
        bool,
        typer.Option("--reuse/--no-reuse", help="Reuse a stored fit of the same query and data."),
    ] = True,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a law to the rows a SQL query selects; store it in the catalog's fits table."""
    from vvshub.laws import fit_sql

    scales = _scales(form, x_scale, n_scale, d_scale)
    result = _with_warnings(
        lambda: fit_sql(
            sql,
            form=form,
            catalog=catalog,
            scales=scales,
            n_bootstrap=bootstrap,
            seed=seed,
            delta=delta,
            drop_missing=drop_missing,
            reuse=reuse,
        )
    )
    out = result.to_dict()
    if as_json:
        if result.reused:  # the fit's caveats were said when it was made; say them again
            _print_notes(out["warnings"])
        print_json(out)
        return
    from rich.console import Console
    from rich.table import Table

    from vvshub.laws import plain_formula, short_number

    console = Console()
    f = result.fit
    table = Table(title=f"{f.form} law, {f.n_rows} rows", header_style="bold")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    if f.n_bootstrap:
        table.add_column("95% CI", justify="right")
    from rich.text import Text

    ci = out.get("ci", {})
    rows = [(k, v, ci.get(k)) for k, v in f.params.items()]
    if f.degenerate:  # A overflowed: its logarithm is the number to read
        rows.insert(2, ("a = log A", out["log_params"]["a"], out.get("log_ci", {}).get("a")))
    for k, v, band in rows:
        row = [k, _fmt(v)]
        if f.n_bootstrap:
            row.append(Text(f"[{_fmt(band[0])}, {_fmt(band[1])}]") if band else "")
        table.add_row(*row)
    console.print(table)
    console.print(plain_formula(f), highlight=False)
    if result.reused:
        _print_notes(out["warnings"])
    scales_txt = ", ".join(f"{k}={short_number(v)}" for k, v in f.scales.items())
    console.print(
        f"objective {f.objective:.8g}  ({scales_txt}; {f.n_bootstrap} bootstraps; "
        f"{'reused' if result.reused else 'stored' if result.stored else 'not stored'} "
        f"fit {result.fit_id})",
        highlight=False,
    )


def _allocation_or_none(fits: dict[str, Any], catalog: Any, allocation: Any, relation: Any) -> Any:
    """The joint law's allocation, or ``None`` with a warning when the law has none."""
    if "joint" not in fits:
        return None
    try:
        return allocation(fits["joint"].fit, relation(catalog=catalog))
    except ValueError as exc:
        _print_notes([f"no compute-optimal allocation: {exc}; the joint law does not saturate"])
        return None


def _paper_rows(fits: dict[str, Any], alloc: Any) -> list[tuple[str, str, str]]:
    from vvshub.laws import PAPER_REPORTED, plain_formula

    symbols = {"compute": "C", "params": "N", "samples": "D"}
    rows = []
    for key, res in fits.items():
        f = res.fit
        law = plain_formula(f, symbol=symbols.get(key.split("_")[0], "x"))
        ci = f.ci()
        if "alpha" in ci and f.form == "power":
            lo, hi = ci["alpha"]
            law += f"  α∈[{lo:.3f}, {hi:.3f}]"
        paper = ""
        rep = PAPER_REPORTED.get(key)
        if rep:
            paper = f"S = {rep['S_max']:.2f} - {rep['A']:.2f}·(C/1e13)^-{rep['alpha']:.2f}"
        rows.append((f"{key} ({f.n_rows})", law, paper))
    if alloc is not None:
        rep = PAPER_REPORTED["allocation"]
        rows.append(
            (
                "allocation N*(C)",
                f"N* ∝ C^{alloc.n_exponent:.3f}  (a' = {alloc.a_prime:.3f}, n = {alloc.n:.3f})",
                f"N ∝ C^0.3 (a'/n = {rep['n_exponent']:.3f}, a' = {rep['a_prime']:.3f})",
            )
        )
        rows.append(
            (
                "allocation D*(C)",
                f"D* ∝ C^{alloc.d_exponent:.3f}  (b' = {alloc.b_prime:.3f})",
                f"D ∝ C^0.7 (b'/n = {rep['d_exponent']:.3f}, b' = {rep['b_prime']:.3f})",
            )
        )
    return rows


@laws_app.command("paper")
def paper_cmd(
    bootstrap: BootstrapOpt = 1000,
    reuse: Annotated[bool, typer.Option("--reuse/--no-reuse", help="Reuse stored fits.")] = True,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the paper's headline laws from the catalog; print them beside the paper's numbers."""
    from vvshub.laws import PAPER_REPORTED, allocation, compute_relation, paper_fits

    fits = _with_warnings(lambda: paper_fits(catalog=catalog, n_bootstrap=bootstrap, reuse=reuse))
    alloc = _allocation_or_none(fits, catalog, allocation, compute_relation)
    if as_json:
        out = {k: v.to_dict() for k, v in fits.items()}
        print_json(
            {"fits": out, "allocation": alloc.to_dict() if alloc else None, "paper": PAPER_REPORTED}
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="The paper's laws, refitted on this catalog", header_style="bold")
    table.add_column("law (rows)")
    table.add_column("vvshub fit")
    table.add_column("paper reports")
    for row in _paper_rows(fits, alloc):
        table.add_row(*row)
    Console().print(table)


@laws_app.command("plot")
def plot_cmd(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="FILE.png|svg, or a folder with --paper.")
    ],
    sql: Annotated[
        str | None,
        typer.Option("--sql", help="Query returning x, score (n, d, score for chinchilla)."),
    ] = None,
    paper: Annotated[
        bool, typer.Option("--paper", help="The analogues of the paper's Figures 1b, 2c, 3a, 4a.")
    ] = False,
    form: FormOpt = "power",
    x_scale: XScaleOpt = 1.0,
    n_scale: NScaleOpt = 1.0,
    d_scale: DScaleOpt = 1.0,
    bootstrap: BootstrapOpt = 1000,
    x_label: Annotated[str, typer.Option("--x-label", help="Label of the x axis.")] = "x",
    symbol: Annotated[
        str, typer.Option("--symbol", help="Symbol of x in the legend's formula.")
    ] = "x",
    title: Annotated[str | None, typer.Option("--title", help="Figure title.")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Plot data, fitted law and bootstrap band (log-x), or the paper's figures with --paper."""
    if paper == (sql is not None):
        raise typer.BadParameter("give either --sql QUERY or --paper", param_hint="--sql/--paper")
    if paper:
        from vvshub.laws import allocation, compute_relation, paper_fits, plot_paper

        fits = _with_warnings(lambda: paper_fits(catalog=catalog, n_bootstrap=bootstrap))
        alloc = _allocation_or_none(fits, catalog, allocation, compute_relation)
        written = plot_paper(fits, alloc, output)
    else:
        from vvshub.laws import fit_sql, plot_fit

        if output.suffix.lower() not in (".png", ".svg"):
            raise typer.BadParameter("output must end in .png or .svg", param_hint="-o")
        scales = _scales(form, x_scale, n_scale, d_scale)
        res = _with_warnings(
            lambda: fit_sql(sql, form=form, catalog=catalog, scales=scales, n_bootstrap=bootstrap)
        )
        written = [plot_fit(res, output, x_label=x_label, symbol=symbol, title=title)]
    for path in written:
        print_text(f"wrote {path}")


@laws_app.command("backtest")
def backtest_cmd(
    sql: SqlOpt,
    holdout_top: Annotated[
        int,
        typer.Option(
            "--holdout-top",
            help="Hold out the K largest compute levels (all rows at each level).",
            min=1,
        ),
    ],
    form: FormOpt = "power",
    x_scale: XScaleOpt = 1.0,
    n_scale: NScaleOpt = 1.0,
    d_scale: DScaleOpt = 1.0,
    bootstrap: BootstrapOpt = 1000,
    seed: SeedOpt = 42,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refit without the K largest compute levels; report the error and band coverage on them."""
    from vvshub.laws import backtest

    scales = _scales(form, x_scale, n_scale, d_scale)
    bt = _with_warnings(
        lambda: backtest(
            sql,
            holdout_top=holdout_top,
            form=form,
            catalog=catalog,
            scales=scales,
            n_bootstrap=bootstrap,
            seed=seed,
        )
    )
    if as_json:
        print_json(bt.to_dict())
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"backtest: fit on {bt.fit.n_rows} rows; {len(bt.rows)} rows at the "
        f"{len({r.compute for r in bt.rows})} largest compute levels held out",
        header_style="bold",
    )
    for col in ("model", "compute", "measured", "predicted", "95% band", "error", "covered"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in bt.rows:
        table.add_row(
            Text(str(r.label)),
            _fmt(r.compute),
            _fmt(r.score),
            _fmt(r.predicted),
            f"[{_fmt(r.low)}, {_fmt(r.high)}]",
            f"{r.error:+.4f}",
            {True: "yes", False: "no", None: "—"}[r.covered],
        )
    console = Console()
    console.print(table)
    cov = "—" if bt.coverage is None else f"{bt.coverage:.0%}"
    console.print(
        f"mean absolute error {bt.mae:.4f}; band covers {cov} of held-out models", highlight=False
    )


def predict_cmd(
    flops: Annotated[
        float, typer.Option("--flops", help="Training compute C in FLOPs, e.g. 1e20.")
    ],
    bootstrap: BootstrapOpt = 1000,
    nearest: Annotated[int, typer.Option("--nearest", help="Catalog models to list.", min=0)] = 5,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Alignment to expect at compute C (95% bands), and the compute-optimal N* and D*."""
    from vvshub.laws import predict

    pred = _with_warnings(
        lambda: predict(flops, catalog=catalog, n_bootstrap=bootstrap, n_nearest=nearest)
    )
    if as_json:
        print_json(pred.to_dict())
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    print_text(f"At C = {_fmt(flops)} FLOPs", style="bold")
    valid = pred.valid
    for name, label, s, (lo, hi) in (
        ("neural", "neural alignment     ", pred.neural, pred.neural_ci),
        ("behavior", "behavioural alignment", pred.behavior, pred.behavior_ci),
    ):
        if valid[name]:
            print_text(f"  {label} {_fmt(s)}   95% CI [{_fmt(lo)}, {_fmt(hi)}]")
        else:  # not a score: say what the law gives, in words
            print_text(f"  {label} —   (the law gives {s:.3g}, below 0: not a score)")
    a = pred.allocation
    if not a:
        print_text("  compute-optimal N*, D*: —   (the joint law cannot give them; see warnings)")
    else:
        lo, hi = pred.n_params_ci
        print_text(
            f"  compute-optimal N*    {_fmt(pred.n_params_opt)} parameters   "
            f"[{_fmt(lo)}, {_fmt(hi)}]   (N* ∝ C^{a['n_exponent']:.3f})"
        )
        lo, hi = pred.n_samples_seen_ci
        print_text(
            f"  compute-optimal D*    {_fmt(pred.n_samples_seen_opt)} samples seen   "
            f"[{_fmt(lo)}, {_fmt(hi)}]   (D* ∝ C^{a['d_exponent']:.3f})"
        )
    if pred.nearest:
        table = Table(title="closest models in the catalog", header_style="bold")
        for col in ("model", "total_flops", "neural", "behaviour"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for m in pred.nearest:
            table.add_row(Text(m.model_id), _fmt(m.total_flops), _fmt(m.neural), _fmt(m.behavior))
        console.print(table)
    for w in pred.warnings:
        print_warning(str(w))


def register(app: typer.Typer) -> None:
    """Add the ``laws`` sub-app and the top-level ``predict`` command to ``app``."""
    app.add_typer(laws_app, name="laws")
    app.command("predict")(predict_cmd)
