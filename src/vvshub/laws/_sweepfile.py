"""``laws suggest -o``: a plan as grid files for ``vvshub sweep``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from vvshub.errors import SuggestError

if TYPE_CHECKING:
    from vvshub.laws._suggest import Suggestion

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_sweep(
    suggestion: Suggestion,
    path: str | Path,
    *,
    data: dict[str, str] | None = None,
    seed: int = 0,
) -> list[Path]:
    """Write the plan as one sweep file for ``vvshub sweep PATH``.

    A plan's runs are not a product of axes, so the file lists them as ``grids:``, one
    single-run grid per run in the plan's order (the trainer expands each and joins them).
    The file is written to a temporary name and moved into place.

    Args:
        suggestion: the plan (runs need ``arch``, ``dataset`` and ``samples_per_class``).
        path: where to write, e.g. ``runs.yaml``.
        data: data set name -> data set spec (folder, zip or ``hf:NAME``); a name without
            one is written as a folder of that name beside the grid file.
        seed: the training seed of runs that name none.

    Returns:
        The file written (a one-element list).

    Raises:
        SuggestError: a run without architecture, data set or samples per class (SQL
            candidates must return them for a sweep), or an empty plan.
    """
    import os

    import yaml

    path = Path(path)
    if not suggestion.runs:
        raise SuggestError("the plan has no runs; there is nothing to write")
    data = dict(data or {})
    grids = []
    for run in suggestion.runs:
        missing = [k for k in ("arch", "dataset", "samples_per_class") if run.info.get(k) is None]
        if missing:
            raise SuggestError(
                f"run {run.label!r} has no {', '.join(missing)}: return them from the "
                "--candidates query to write a sweep file"
            )
        ds = str(run.info["dataset"])
        spc = int(run.info["samples_per_class"])
        grids.append(
            {
                "arch": str(run.info["arch"]),
                "samples_per_class": spc if spc > 0 else "full",
                "seed": int(run.info["seed"]) if run.info.get("seed") is not None else seed,
                "dataset": data.get(ds, ds),
                "dataset_name": ds,
            }
        )
    header = (
        f"# vvshub laws suggest: {len(grids)} run(s), {suggestion.spent:.3g} of "
        f"{suggestion.budget:.3g} FLOPs; target {suggestion.target}\n"
        f"# in plan order: {', '.join(r.label for r in suggestion.runs)}\n"
    )
    text = header + yaml.safe_dump({"grids": grids}, sort_keys=False)
    tmp = path.with_name(_SAFE.sub("_", path.name) + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)
    return [path]
