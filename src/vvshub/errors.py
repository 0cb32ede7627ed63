"""Every exception vvshub raises.

Each class also subclasses the closest builtin, so callers that already catch
``LookupError`` or ``ValueError`` keep working. Messages quote the bad value,
list the valid options and name the next step.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BenchmarkNotFoundError",
    "CatalogError",
    "CatalogLockedError",
    "CheckpointError",
    "ConvergenceWarning",
    "CountError",
    "FitDataError",
    "ImportDataError",
    "LayerError",
    "ModelIdError",
    "ModelNotFoundError",
    "NotFittedError",
    "QueryError",
    "RecordError",
    "SchemaVersionError",
    "UnknownArchitectureError",
    "VariantError",
    "VvsHubError",
]


class VvsHubError(Exception):
    """Base class of every vvshub error."""


class ModelIdError(VvsHubError, ValueError):
    """A model id does not follow either grammar vvshub reads.

    Attributes:
        model_id: the text that failed to parse.
    """

    def __init__(self, message: str, *, model_id: str | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id


class ModelNotFoundError(VvsHubError, LookupError):
    """A model id parses but names no model in the catalog.

    Attributes:
        model_id: the id looked up.
        suggestions: the closest ids that do exist.
    """

    def __init__(
        self, message: str, *, model_id: str | None = None, suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.model_id = model_id
        self.suggestions = list(suggestions)

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return self.args[0] if self.args else ""


class UnknownArchitectureError(VvsHubError, LookupError):
    """An architecture name that the zoo cannot build.

    Attributes:
        arch: the name asked for.
        suggestions: the closest names the zoo knows.
    """

    def __init__(
        self, message: str, *, arch: str | None = None, suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.arch = arch
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class VariantError(VvsHubError, ValueError):
    """A width/depth variant that cannot exist (width 0, negative depth, no blocks)."""


class CheckpointError(VvsHubError, ValueError):
    """A checkpoint file is missing, corrupt or does not match its model."""


class BenchmarkNotFoundError(VvsHubError, LookupError):
    """A benchmark or region name that vvshub does not know."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class CatalogError(VvsHubError, RuntimeError):
    """The catalog cannot be opened, read or written."""


class CatalogLockedError(CatalogError):
    """Another process holds the catalog's write lock.

    Attributes:
        path: the catalog file.
        pid: the process holding the lock, when DuckDB says.
    """

    def __init__(self, message: str, *, path: str | None = None, pid: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


class QueryError(CatalogError, ValueError):
    """A SQL query failed: bad syntax, an unknown column, or a write on a read-only catalog."""


class RecordError(CatalogError, ValueError):
    """A record handed to the catalog's write API is invalid; nothing was written.

    Attributes:
        record: the record type (``ScoreRecord`` ...).
        field: the offending field, when one is to blame.
    """

    def __init__(
        self, message: str, *, record: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.record = record
        self.field = field


class SchemaVersionError(CatalogError):
    """A catalog was written by a newer vvshub (a newer schema); it is left untouched.

    Attributes:
        found: the catalog's schema version.
        supported: the newest version this vvshub reads.
    """

    def __init__(self, message: str, *, found: int, supported: int) -> None:
        super().__init__(message)
        self.found = found
        self.supported = supported


class ImportDataError(CatalogError, ValueError):
    """An input file for the catalog is malformed or truncated.

    Attributes:
        path: the file.
        line: the 1-based line of the problem, when known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class FitDataError(VvsHubError, ValueError):
    """Data handed to a scaling-law fit cannot be fitted (no rows, NaN, x <= 0, score >= 1, ...)."""


class NotFittedError(VvsHubError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class ConvergenceWarning(UserWarning):
    """A numerical fit stopped before it converged; its result may be unreliable."""


class CountError(VvsHubError, ValueError):
    """Counting parameters or compute was asked something impossible (an image size that is not
    a positive integer, one the architecture cannot take, a negative count, an unknown method)."""


class LayerError(VvsHubError, ValueError):
    """A layer or parameter name with no counterpart in the other naming (study <-> timm)."""
