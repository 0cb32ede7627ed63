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
    "CatalogUnreachableError",
    "CheckpointError",
    "ConvergenceWarning",
    "CorruptImageError",
    "CountError",
    "DatasetError",
    "DatasetNotFoundError",
    "FitDataError",
    "ImportDataError",
    "LayerError",
    "ModelIdError",
    "ModelNotFoundError",
    "NotFittedError",
    "PublishError",
    "QueryError",
    "RecordError",
    "ResumeError",
    "SchemaVersionError",
    "SubsetError",
    "TrainingError",
    "TrainingOutOfMemoryError",
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


class DatasetError(VvsHubError, ValueError):
    """A training data set that cannot be read: bad layout, no classes, unreadable source.

    Attributes:
        path: the data set spec or file in question.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data set spec names no folder, zip or Hugging Face data set that exists."""

    def __str__(self) -> str:  # OSError would format (errno, strerror) otherwise
        return self.args[0] if self.args else ""


class SubsetError(DatasetError):
    """A class has fewer images than the subset asks for.

    Attributes:
        class_name: the class that is short.
        available: how many usable images it has.
        requested: images per class asked for.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        class_name: str | None = None,
        available: int | None = None,
        requested: int | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.class_name = class_name
        self.available = available
        self.requested = requested


class CorruptImageError(DatasetError):
    """An image that cannot be decoded, under the ``--corrupt error`` policy.

    Attributes:
        image_id: the image's id in the data set (its path inside the folder or zip).
    """

    def __init__(
        self, message: str, *, path: str | None = None, image_id: str | None = None
    ) -> None:
        super().__init__(message, path=path)
        self.image_id = image_id


class TrainingError(VvsHubError, RuntimeError):
    """A training run that cannot start or continue (bad settings, a lost worker)."""


class TrainingOutOfMemoryError(TrainingError, MemoryError):
    """The device ran out of memory during training.

    Attributes:
        batch_size: the per-device batch size that did not fit.
    """

    def __init__(self, message: str, *, batch_size: int | None = None) -> None:
        super().__init__(message)
        self.batch_size = batch_size


class ResumeError(CheckpointError):
    """``--resume`` found no resume state, or one written for another configuration."""


class PublishError(VvsHubError, RuntimeError):
    """A finished model could not be pushed to the hub (its checkpoint stays in the run folder)."""


class CountError(VvsHubError, ValueError):
    """Counting parameters or compute was asked something impossible (an image size that is not
    a positive integer, one the architecture cannot take, a negative count, an unknown method)."""


class LayerError(VvsHubError, ValueError):
    """A layer or parameter name with no counterpart in the other naming (study <-> timm)."""


class CatalogUnreachableError(CatalogError, ConnectionError):
    """A remote catalog (``http(s)://`` or ``hf://``) could not be fetched and no cached copy exists.

    Attributes:
        url: what was being fetched.
        reason: why, in a few words ("connection refused", "HTTP 404").
    """

    def __init__(self, message: str, *, url: str, reason: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason
