"""One self-contained HTML page about a catalog: tables, the paper's laws, the mini zoo, cards.

Figures are PNGs embedded as data URIs, the style sheet is inline, and there is no
script, so the file can be mailed or archived alone. Every piece of text that comes
from data (ids, SQL, cards) is escaped; cards are rendered from Markdown with raw
HTML switched off.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub._format import format_number

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["Card", "ReportResult", "build_report"]

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; }
header { background: #1d3557; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
header p { margin: 0; opacity: .85; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
h2 { border-bottom: 2px solid #e3e7ee; padding-bottom: .3rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 13px; display: block; overflow-x: auto; max-width: 100%; }
th, td { border-bottom: 1px solid #e3e7ee; padding: .25rem .6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f6f9; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #e3e7ee; }
figcaption { font-size: 13px; color: #555; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5rem .8rem; }
details { border: 1px solid #e3e7ee; border-radius: 4px; margin: .4rem 0; padding: .3rem .8rem; }
summary { cursor: pointer; font-weight: 600; }
code, pre { font: 12.5px ui-monospace, Menlo, Consolas, monospace; }
pre { background: #f4f6f9; padding: .6rem; overflow-x: auto; }
nav a { margin-right: 1rem; }
"""


@dataclass(frozen=True)
class Card:
    """A model card to show: its model, Markdown text, and where its repo lives."""

    model_id: str
    markdown: str
    repo_url: str | None = None


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes:
        path: the HTML file.
        figures: names of the embedded figures.
        n_models: models in the catalog.
        n_trained: models vvshub trained (the mini zoo).
        n_cards: model cards included.
        warnings: sections that could not be made, and why.
    """

    path: Path
    figures: tuple[str, ...] = ()
    n_models: int = 0
    n_trained: int = 0
    n_cards: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "figures": list(self.figures),
            "n_models": self.n_models,
            "n_trained": self.n_trained,
            "n_cards": self.n_cards,
            "warnings": list(self.warnings),
        }


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(df: pd.DataFrame, *, columns: Sequence[str] | None = None) -> str:
    if df is None or df.empty:
        return "<p><em>none</em></p>"
    cols = list(columns or df.columns)
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = []
    for row in df[cols].itertuples(index=False):
        cells = []
        for v in row:
            numeric = not isinstance(v, bool) and (
                isinstance(v, (int, float)) or hasattr(v, "dtype")
            )
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{_esc(format_number(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    alt = _esc(caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def _markdown(text: str) -> str:
    """Card Markdown as HTML, without its YAML header and with raw HTML escaped."""
    from markdown_it import MarkdownIt

    body = text
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            body = text[end + 4 :]
    return MarkdownIt("commonmark", {"html": False}).render(body)


def _paper_section(
    catalog: str | Path | None, tmp: Path, figures: list[str], n_bootstrap: int
) -> str:
    from vvshub.laws import allocation, compute_relation, paper_fits, plain_formula, plot_paper

    fits = paper_fits(catalog=catalog, n_bootstrap=n_bootstrap)
    if "compute_neural" not in fits:
        return '<p class="note">The study is not in this catalog: run <code>vvshub catalog import-reference</code>.</p>'
    alloc = (
        allocation(fits["joint"].fit, compute_relation(catalog=catalog))
        if "joint" in fits
        else None
    )
    files = plot_paper(fits, alloc, tmp / "paper")
    captions = {
        "fig1b": "Fig. 1b: neural and behavioural alignment against training compute, refitted",
        "fig2c": "Fig. 2c: alignment against parameters (full-data models)",
        "fig3a": "Fig. 3a: alignment against samples seen, one law per training set",
        "fig4a": "Fig. 4a: compute-optimal parameters N*(C) and samples seen D*(C)",
    }
    parts = ["<table><thead><tr><th>law</th><th>rows</th><th>fit</th></tr></thead><tbody>"]
    for key, res in fits.items():
        symbol = {"compute": "C", "params": "N", "samples": "D"}.get(key.split("_")[0], "x")
        parts.append(
            f"<tr><td>{_esc(key)}</td><td class='num'>{res.fit.n_rows}</td>"
            f"<td>{_esc(plain_formula(res.fit, symbol=symbol))}</td></tr>"
        )
    parts.append("</tbody></table>")
    if alloc is not None:
        parts.append(
            f"<p>Compute-optimal allocation: N* ∝ C<sup>{alloc.n_exponent:.3f}</sup>, "
            f"D* ∝ C<sup>{alloc.d_exponent:.3f}</sup>.</p>"
        )
    for f in files:
        parts.append(_figure(f, captions.get(f.stem, f.stem)))
        figures.append(f.stem)
    return "\n".join(parts)


def _zoo_section(trained: pd.DataFrame, law: Any, tmp: Path, figures: list[str]) -> str:
    from vvshub.laws import plain_formula
    from vvshub.report._figures import plot_trained

    if trained.empty:
        return (
            "<p><em>No models trained by vvshub in this catalog yet: "
            "<code>vvshub train resnet18 --width 0.5 --samples-per-class 30 --dataset …</code></em></p>"
        )
    cols = [
        c
        for c in (
            "model_id", "width", "samples_per_class", "n_params", "total_flops", "acc",
            "neural", "behavior", "suite", "hub_repo",
        )
        if c in trained.columns
    ]  # fmt: skip
    parts = [_table(trained, columns=cols)]
    if law is not None:
        parts.append(
            f"<p>Mini zoo data-scaling law (samples seen → neural alignment, "
            f"{law.fit.n_rows} models): <code>{_esc(plain_formula(law.fit, symbol='D'))}</code></p>"
        )
    suites = set(trained["suite"].dropna()) if "suite" in trained else set()
    if "synthetic" in suites:
        parts.append(
            '<p class="note">Alignment here is on the <strong>synthetic</strong> suite: simulated '
            "responses to real photographs. It measures the pipeline, not the brain.</p>"
        )
    names = {
        "zoo_accuracy": "Top-1 accuracy against images per class and against compute, per width",
        "zoo_alignment": "Alignment against samples seen (with the mini zoo's law) and compute",
    }
    for f in plot_trained(trained, tmp / "zoo", law=law):
        parts.append(_figure(f, names.get(f.stem, f.stem)))
        figures.append(f.stem)
    return "\n".join(parts)


def _cards_section(cards: Iterable[Card]) -> tuple[str, int]:
    parts, n = [], 0
    for card in cards:
        link = f' — <a href="{_esc(card.repo_url)}">repository</a>' if card.repo_url else ""
        parts.append(
            f"<details><summary>{_esc(card.model_id)}</summary>"
            f"<p>{_esc(card.model_id)}{link}</p>{_markdown(card.markdown)}</details>"
        )
        n += 1
    if not parts:
        return "<p><em>No model cards in the local hub yet (<code>vvshub push</code>).</em></p>", 0
    return "\n".join(parts), n


def build_report(
    output: str | Path,
    *,
    catalog: str | Path | None = None,
    cards: Iterable[Card] = (),
    zoo_law: Any = None,
    paper: bool = True,
    n_bootstrap: int = 1000,
) -> ReportResult:
    """Write the catalog's report as one self-contained HTML file.

    Args:
        output: the ``.html`` file (written atomically).
        catalog: the catalog to describe; default ``$VVSHUB_HOME/catalog.duckdb``.
        cards: model cards to include (see :func:`vvshub.report.local_cards`).
        zoo_law: a fitted samples-seen law of the mini zoo (a ``SqlFit``), drawn with it.
        paper: include the paper's laws, refitted (stored fits are reused).
        n_bootstrap: resamples for the paper's bands (the study's 1,000 by default).

    Returns:
        What was written.

    Example:
        >>> build_report("report.html")  # doctest: +SKIP
        ReportResult(path=PosixPath('report.html'), ...)
    """
    from vvshub import __version__
    from vvshub.catalog import open_catalog, summarise, trained_models

    out = Path(output)
    with open_catalog(catalog, read_only=True) as cat:
        summary = summarise(cat)
        trained = trained_models(cat)
    figures: list[str] = []
    warnings: list[str] = []
    card_html, n_cards = _cards_section(cards)
    with tempfile.TemporaryDirectory(prefix="vvshub-report-") as tmp_dir:
        tmp = Path(tmp_dir)
        paper_html = ""
        if paper:
            try:
                paper_html = _paper_section(catalog, tmp, figures, n_bootstrap)
            except Exception as exc:  # a report still shows what it can
                log.warning("paper laws left out of the report: %s", exc)
                warnings.append(f"paper laws: {exc}")
                paper_html = f'<p class="note">Paper laws unavailable: {_esc(exc)}</p>'
        zoo_html = _zoo_section(trained, zoo_law, tmp, figures)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = summary.rows
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vvshub report</title><style>{_CSS}</style></head>
<body>
<header><h1>vvshub report</h1>
<p>{_esc(summary.location)} · schema {_esc(summary.schema_version)} · {when} · vvshub {_esc(__version__)}</p></header>
<main>
<nav><a href="#summary">Catalog</a><a href="#paper">Paper's laws</a><a href="#zoo">Mini zoo</a><a href="#cards">Model cards</a></nav>
<section id="summary"><h2>Catalog</h2>
<p>{rows.get("models", 0):,} models, {rows.get("score_records", 0):,} score records,
{rows.get("checkpoints", 0):,} checkpoints, {rows.get("training_runs", 0):,} training runs,
{rows.get("fits", 0):,} stored fits.</p>
<h3>Models by source</h3>{_table(summary.by_source)}
<h3>Scores by region</h3>{_table(summary.by_region)}
<h3>The study's models by family</h3>{_table(summary.by_family)}
</section>
<section id="paper"><h2>The paper's scaling laws, refitted</h2>{paper_html}</section>
<section id="zoo"><h2>Mini zoo</h2>{zoo_html}</section>
<section id="cards"><h2>Model cards</h2>{card_html}</section>
</main></body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp_out.write_text(page, encoding="utf-8")
    os.replace(tmp_out, out)
    return ReportResult(
        path=out,
        figures=tuple(figures),
        n_models=rows.get("models", 0),
        n_trained=len(trained),
        n_cards=n_cards,
        warnings=tuple(warnings),
    )
