"""Every exception vvshub raises.

Each class also subclasses the closest builtin, so callers that already catch
``LookupError`` or ``ValueError`` keep working. Messages quote the bad value,
list the valid options and name the next step.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BenchmarkDataError",
    "BenchmarkFileNotFoundError",
    "BenchmarkNotFoundError",
    "BrainScoreError",
    "BrainScoreNotInstalledError",
    "BrainScoreTaskError",
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
    "HubError",
    "HubHTTPError",
    "ImportDataError",
    "IntegrityError",
    "LayerError",
    "LayerNotFoundError",
    "ModelIdError",
    "ModelNotFoundError",
    "NotFittedError",
    "NotPublishedError",
    "PublishError",
    "QueryError",
    "RecordError",
    "RepoIdError",
    "ResumeError",
    "SchemaVersionError",
    "ScoreOptionError",
    "SettingError",
    "StimulusDecodeError",
    "SubsetError",
    "SuggestError",
    "TrainingError",
    "TrainingOutOfMemoryError",
    "UnknownArchitectureError",
    "UnsafeCheckpointError",
    "VariantError",
    "VvsHubError",
    "WeightsUnavailableError",
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


class RepoIdError(VvsHubError, ValueError):
    """A hub repo id that is not ``ORG/NAME`` with allowed characters (or tries path traversal).

    Attributes:
        repo_id: the text that was refused.
    """

    def __init__(self, message: str, *, repo_id: str | None = None) -> None:
        super().__init__(message)
        self.repo_id = repo_id


class HubError(VvsHubError, RuntimeError):
    """A hub operation failed: a repo or revision is missing, a push was refused, a server died."""


class HubHTTPError(HubError, OSError):
    """A hub server answered with an error, after any retries.

    Attributes:
        url: the URL requested.
        status: the HTTP status, ``None`` when the connection failed.
    """

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class NotPublishedError(ModelNotFoundError):
    """A model id that no hub holds.

    Attributes:
        model_id: the id asked for.
        suggestions: the closest published ids.
        train_command: the ``vvshub train ...`` command that would make the model.
    """

    def __init__(
        self,
        message: str,
        *,
        model_id: str | None = None,
        suggestions: Sequence[str] = (),
        train_command: str | None = None,
    ) -> None:
        super().__init__(message, model_id=model_id, suggestions=suggestions)
        self.train_command = train_command


class IntegrityError(CheckpointError):
    """A weights file whose sha256 (or size) is not the one its repo records: tampered or truncated.

    Attributes:
        path: the file checked.
        expected: the sha256 the repo records.
        actual: the sha256 of the bytes found.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint that only arbitrary unpickling could read; vvshub refuses to load it."""


class BenchmarkDataError(VvsHubError, ValueError):
    """Benchmark data that cannot be scored: ids that don't match, NaN responses, too few
    repetitions for a ceiling, a malformed assembly."""


class BenchmarkFileNotFoundError(BenchmarkDataError, FileNotFoundError):
    """A benchmark file is missing where Brain-Score would keep it.

    Attributes:
        path: where the file was expected.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:  # OSError would format its own way
        return self.args[0] if self.args else ""


class StimulusDecodeError(BenchmarkDataError):
    """A stimulus image cannot be decoded.

    Attributes:
        stimulus_id: the image.
    """

    def __init__(self, message: str, *, stimulus_id: str | None = None) -> None:
        super().__init__(message)
        self.stimulus_id = stimulus_id


class LayerNotFoundError(VvsHubError, LookupError):
    """A layer name that the model does not have.

    Attributes:
        layer: the name asked for.
        valid: the layer names that do exist.
    """

    def __init__(self, message: str, *, layer: str | None = None, valid=()) -> None:
        super().__init__(message)
        self.layer = layer
        self.valid = list(valid)

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class WeightsUnavailableError(VvsHubError, OSError):
    """Weights that cannot be obtained here (offline, or the hub is not available)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class SuggestError(VvsHubError, ValueError):
    """``laws suggest`` cannot plan: a budget below every candidate, a target outside the
    law's variables, candidates without cost or inputs."""


class BrainScoreError(VvsHubError, RuntimeError):
    """brainscore-vision (the ``brainscore`` extra) could not do what was asked: a benchmark it
    cannot load (unknown id, its data on S3 out of reach, a plugin dependency missing)."""


class BrainScoreNotInstalledError(BrainScoreError, ImportError):
    """The ``brainscore`` extra is not installed (brainscore-vision cannot be imported)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class BrainScoreTaskError(BrainScoreError, NotImplementedError):
    """A Brain-Score benchmark asked the vvshub model for a task it does not perform
    (it performs ``passive``, ``probabilities`` and neural recordings)."""


class SettingError(VvsHubError, ValueError):
    """An environment setting (``VVSHUB_*``) with a value vvshub cannot use."""


class ScoreOptionError(VvsHubError, ValueError):
    """A scoring option with a value the scorer does not know (normalisation, layer choice,
    regression)."""
