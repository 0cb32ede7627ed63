"""Looking models up: resolve any spelling of an id, list, and describe one model."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from vvshub import ids
from vvshub.catalog._connection import Catalog
from vvshub.errors import ModelIdError, ModelNotFoundError
from vvshub.study import BEHAVIORAL, NEURAL_REGIONS, REGIONS

if TYPE_CHECKING:
    import pandas as pd

_KNOWN_IDS = """
SELECT model_id FROM models
UNION SELECT short_id FROM models WHERE short_id IS NOT NULL
UNION SELECT DISTINCT model_id FROM checkpoints
"""
_FIND_ID = """
SELECT model_id FROM models WHERE model_id = ? OR short_id = ?
UNION SELECT DISTINCT model_id FROM checkpoints WHERE model_id = ?
LIMIT 1
"""

_NEURAL = ", ".join(f"'{r}'" for r in NEURAL_REGIONS)  # the study's names, never user input
#: Regions in the ventral stream's order, behaviour last (for sorting a model's scores).
_REGION_ORDER = (
    "CASE b.region "
    + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(REGIONS, start=1))
    + f" ELSE {len(REGIONS) + 1} END"
)

_LIST_MODELS = f"""
WITH agg AS (
    SELECT model_id,
           avg(score) FILTER (WHERE region IN ({_NEURAL})) AS neural,
           avg(score) FILTER (WHERE region = '{BEHAVIORAL}') AS behavior
    FROM scores GROUP BY model_id
)
SELECT m.model_id, m.short_id, m.arch, m.arch_family, m.dataset, m.samples_per_class, m.seed,
       m.n_params, m.total_flops, m.acc, agg.neural, agg.behavior
FROM models m LEFT JOIN agg USING (model_id)
WHERE ($arch IS NULL OR m.arch = $arch)
  AND ($dataset IS NULL OR m.dataset = $dataset)
  AND ($family IS NULL OR m.arch_family = $family)
"""


def resolve_model(cat: Catalog, text: str | ids.ModelId) -> str:
    """The catalog's model id for any spelling of it (study id, short id, alias).

    Args:
        cat: an open catalog.
        text: the id as typed, or one already parsed (then it is not parsed again).

    Raises:
        ModelNotFoundError: no model matches; ``suggestions`` holds the closest ids.

    Example:
        >>> resolve_model(cat, "resnet18_dfull")  # doctest: +SKIP
        'resnet18_imagenet_full'
    """
    return _lookup(cat, text)[0]


def _parse_or_none(text: str) -> ids.ModelId | None:
    try:
        return ids.parse(text)
    except ModelIdError:
        return None


def _lookup(cat: Catalog, text: str | ids.ModelId) -> tuple[str, ids.ModelId | None]:
    """The catalog's id of ``text``, and the parsed id when the catalog spells it that way."""
    if isinstance(text, ids.ModelId):
        mid: ids.ModelId | None = text
        text = text.study_id()
    else:
        mid = _parse_or_none(text)
    spellings = [text]
    if mid is not None:
        spellings += ids.study_candidates(mid)
    candidates = list(spellings)
    short = mid.short_id() if mid is not None else None
    if short:
        candidates.append(short)
    for cand in dict.fromkeys(candidates):
        rows = cat.fetchall(_FIND_ID, [cand, cand, cand])
        if rows:
            model_id = rows[0][0]
            # the parsed id is the catalog's when the catalog spells the model as it does
            known = mid is not None and model_id in (text, mid.study_id())
            return model_id, (mid if known else None)
    known_ids = [r[0] for r in cat.fetchall(_KNOWN_IDS)]
    close = difflib.get_close_matches(text, known_ids, n=5, cutoff=0.6)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ModelNotFoundError(
        f"no model {text!r} in the catalog{hint}", model_id=text, suggestions=close
    )


def list_models(
    cat: Catalog,
    *,
    arch: str | None = None,
    dataset: str | None = None,
    family: str | None = None,
    where: str | None = None,
) -> pd.DataFrame:
    """Models with their mean neural and behavioural scores, filtered.

    ``where`` is a SQL condition over the ``models`` columns (prefix ``m.``), run on
    the caller's connection; open it read-only when the condition comes from a user.
    """
    sql = _LIST_MODELS
    if where:
        sql += f"  AND ({where})\n"
    sql += "ORDER BY m.model_id"
    return cat.query(sql, {"arch": arch, "dataset": dataset, "family": family})


#: ``list_models`` filter -> the models column it matches.
_FILTER_COLUMNS = {"arch": "arch", "dataset": "dataset", "family": "arch_family"}


def suggest_filters(cat: Catalog, **filters: str | None) -> dict[str, list[str]]:
    """For each filter of :func:`list_models` whose value no model has, the closest values.

    Args:
        filters: ``arch``, ``dataset`` and ``family`` as given to :func:`list_models`.

    Returns:
        ``{filter: [closest values …]}`` for the filters that match nothing on their own
        (an empty list when nothing is close); filters that match some model are left out.

    Example:
        >>> suggest_filters(cat, arch="resnet")  # doctest: +SKIP
        {'arch': ['resnet18', 'resnet34', 'resnet50']}
    """
    out: dict[str, list[str]] = {}
    for name, value in filters.items():
        column = _FILTER_COLUMNS.get(name)
        if column is None:
            raise ValueError(
                f"unknown filter {name!r}; expected one of {', '.join(_FILTER_COLUMNS)}"
            )
        if value is None:
            continue
        known = [
            r[0]
            for r in cat.fetchall(
                f"SELECT DISTINCT {column} FROM models WHERE {column} IS NOT NULL ORDER BY 1"
            )
        ]
        if value in known:
            continue
        by_case = {k.lower(): k for k in known}
        close = difflib.get_close_matches(value.lower(), list(by_case), n=5, cutoff=0.7)
        prefixed = [k for k in known if k.lower().startswith(value.lower())]
        out[name] = list(dict.fromkeys([*(by_case[c] for c in close), *prefixed]))[:5]
    return out


def model_detail(cat: Catalog, text: str | ids.ModelId) -> dict[str, Any]:
    """Everything the catalog knows about one model: metadata, scores, checkpoints, aliases.

    Example:
        >>> model_detail(cat, "resnet18_dfull")["model"]["n_params"]  # doctest: +SKIP
        11689512
    """
    model_id, mid = _lookup(cat, text)
    meta = cat.query("SELECT * FROM models WHERE model_id = ?", [model_id]).to_dict(
        orient="records"
    )
    scores = cat.query(
        "SELECT b.region, r.benchmark, r.score, r.raw_score, r.ceiling, r.layer, r.scorer_version, "
        "r.source, r.recorded_at FROM score_records r JOIN benchmarks b USING (benchmark) "
        f"WHERE r.model_id = ? ORDER BY {_REGION_ORDER}, r.recorded_at",
        [model_id],
    )
    checkpoints = cat.query(
        "SELECT epoch, is_benchmarked, url FROM checkpoints WHERE model_id = ? ORDER BY epoch",
        [model_id],
    )
    if mid is None:  # found under another spelling: read the catalog's own id once
        mid = _parse_or_none(model_id)
    aliases = mid.aliases() if mid is not None else [model_id]
    if model_id not in aliases:
        aliases.insert(0, model_id)
    return {
        "model_id": model_id,
        "aliases": aliases,
        "model": meta[0] if meta else None,
        "scores": scores.to_dict(orient="records"),
        "checkpoints": checkpoints.to_dict(orient="records"),
    }
