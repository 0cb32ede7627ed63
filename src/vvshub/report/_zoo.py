"""The mini zoo's own data-scaling law, fitted from the catalog like the paper's."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vvshub.laws import SqlFit

log = logging.getLogger(__name__)

__all__ = ["mini_zoo_law"]

#: The paper's scale for samples seen (D/1e4), so the mini zoo's law reads like Fig. 3a's.
_D_SCALE = 1e4
#: A saturating power law has three parameters: it needs more rows than that.
_MIN_MODELS = 4


def mini_zoo_law(*, catalog: str | Path | None = None, n_bootstrap: int = 1000) -> SqlFit | None:
    """Fit samples seen -> neural alignment over the models vvshub trained and scored.

    The fit is stored in the catalog's ``fits`` table (and reused) like any other.

    Returns:
        The fit, or ``None`` when fewer than four trained models have been scored (a
        saturating power law has three parameters).

    Example:
        >>> law = mini_zoo_law()  # doctest: +SKIP
        >>> law.fit.params  # doctest: +SKIP
    """
    from vvshub.catalog import TRAINED_SAMPLES_NEURAL, open_catalog
    from vvshub.errors import FitDataError
    from vvshub.laws import fit_sql

    with open_catalog(catalog) as cat:
        if "training_runs" not in cat.tables():
            return None
        n = len(cat.query(TRAINED_SAMPLES_NEURAL))
    if n < _MIN_MODELS:
        log.info("mini zoo law skipped: %d scored trained model(s), need %d", n, _MIN_MODELS)
        return None
    try:
        return fit_sql(
            TRAINED_SAMPLES_NEURAL, catalog=catalog, scales=(_D_SCALE,), n_bootstrap=n_bootstrap
        )
    except FitDataError as exc:
        log.warning("mini zoo law not fitted: %s", exc)
        return None
