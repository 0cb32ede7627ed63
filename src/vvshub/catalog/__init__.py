"""The catalog: a DuckDB database of models, checkpoints, benchmarks, scores and fits.

Example:
    >>> from vvshub.catalog import open_catalog, import_reference
    >>> import_reference("../shared/data/reference")  # doctest: +SKIP
    >>> with open_catalog() as cat:  # doctest: +SKIP
    ...     cat.query("SELECT region, avg(score) FROM scores GROUP BY 1")
"""

from vvshub.catalog._connection import Catalog, open_catalog
from vvshub.catalog._export import export_catalog
from vvshub.catalog._models import list_models, model_detail, resolve_model
from vvshub.catalog._reference import ImportSummary, import_reference
from vvshub.catalog._schema import SCHEMA_VERSION, TABLES, VIEWS

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "VIEWS",
    "Catalog",
    "ImportSummary",
    "export_catalog",
    "import_reference",
    "list_models",
    "model_detail",
    "open_catalog",
    "resolve_model",
]
