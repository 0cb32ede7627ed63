"""Typed records: what the hub, the scorer, the trainer and the laws write to the catalog.

Every record is a frozen, keyword-only dataclass with ``to_dict``/``from_dict`` that
validates itself on construction, so a bad value is refused before anything is
written, with an error naming the field. The write verbs in ``_write`` take any mix
of them and apply a batch in one transaction (or spool it when the catalog is busy).

Example:
    >>> rec = ScoreRecord(model_id="resnet18_d10_cifar10", benchmark="vvshub.synthetic.IT",
    ...                   region="IT", score=0.41, raw_score=0.52, ceiling=0.81,
    ...                   normalisation="ratio_squared", scorer_version="vvshub-0.2")
    >>> ScoreRecord.from_dict(rec.to_dict()) == rec
    True
    >>> ScoreRecord(model_id="m", benchmark="b", region="V3", score=0.1, scorer_version="v")
    Traceback (most recent call last):
    ...
    vvshub.errors.RecordError: ScoreRecord.region: 'V3' is not a region; expected one of V1, V2, V4, IT, Behavioral
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from vvshub import study
from vvshub.errors import RecordError

__all__ = [
    "NORMALISATIONS",
    "REGIONS",
    "BenchmarkRecord",
    "CheckpointRecord",
    "EpochMetrics",
    "FitRecord",
    "LayerScoreRecord",
    "ModelRecord",
    "Record",
    "ScoreRecord",
    "TrainingRunRecord",
    "record_from_dict",
]

#: Brain regions (and behaviour) a score can be about; the ``region`` column's domain.
REGIONS = study.REGIONS

Normalisation = Literal[
    "ratio_squared", "squared_over_ceiling", "ratio", "ratio_sqrt_ceiling", "raw"
]
#: How a ceiled score was made from the raw score r and the ceiling c:
#: ``ratio_squared`` (r/c)^2, the study's (Brain-Score before December 2025);
#: ``squared_over_ceiling`` r^2/c (Brain-Score 2.4.2); ``ratio`` r/c;
#: ``ratio_sqrt_ceiling`` r/sqrt(c) (i2n); ``raw`` r, not ceiled.
NORMALISATIONS: tuple[str, ...] = (
    "ratio_squared",
    "squared_over_ceiling",
    "ratio",
    "ratio_sqrt_ceiling",
    "raw",
)
Split = Literal["all", "select", "report"]
RunStatus = Literal["finished", "failed", "running"]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_WHITESPACE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fail(cls: type, name: str, message: str) -> RecordError:
    return RecordError(f"{cls.__name__}.{name}: {message}", record=cls.__name__, field=name)


class _Record:
    """Shared validation and (de)serialisation; subclasses are frozen dataclasses."""

    #: The ``kind`` tag used in spool files.
    kind: ClassVar[str]
    #: Field name -> rule. Rules: "id" (non-empty text), "text" (one line), "multiline"
    #: (text that may hold newlines and tabs, such as SQL), "count" (int >= 0),
    #: "int", "nonneg" (finite float >= 0), "unit" (finite float in [0, 1]),
    #: "corr" (finite float in [-1, 1]), "ceiling" (finite float in (0, 1]),
    #: "float" (finite), "sha256", "bool", "json", "time".
    _rules: ClassVar[dict[str, str]] = {}
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        cls = type(self)
        for name, rule in self._rules.items():
            value = getattr(self, name)
            if value is None:
                continue
            object.__setattr__(self, name, _check(cls, name, rule, value))
        for name, options in self._choices.items():
            value = getattr(self, name)
            if value is not None and value not in options:
                raise _fail(
                    cls,
                    name,
                    f"{value!r} is not {_article(name)}; expected one of {', '.join(options)}",
                )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (timestamps as ISO text, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Build (and validate) a record from :meth:`to_dict`'s output.

        Raises:
            RecordError: an unknown or missing field, or a value out of its domain.
        """
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names - {"kind"})
        if unknown:
            raise _fail(
                cls, unknown[0], f"unknown field; expected some of {', '.join(sorted(names))}"
            )
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:  # a required field missing
            raise RecordError(f"{cls.__name__}: {exc}", record=cls.__name__) from None


def _article(name: str) -> str:
    return {"region": "a region", "split": "a split", "status": "a run status"}.get(
        name, f"a valid {name}"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict()  # type: ignore[attr-defined]
    return value


def _check(cls: type, name: str, rule: str, value: Any) -> Any:
    """Validate ``value`` under ``rule``; return it normalised (ints as int, floats as float)."""
    if rule in ("id", "text", "multiline"):
        if not isinstance(value, str):
            raise _fail(cls, name, f"expected text, got {type(value).__name__} {value!r}")
        if rule == "id" and not value.strip():
            raise _fail(cls, name, "must not be empty")
        pattern = _CONTROL_BUT_WHITESPACE_RE if rule == "multiline" else _CONTROL_RE
        if pattern.search(value):
            raise _fail(cls, name, f"control characters are not allowed: {value!r}")
        return value
    if rule == "bool":
        if not isinstance(value, bool):
            raise _fail(cls, name, f"expected true or false, got {value!r}")
        return value
    if rule in ("count", "int"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
                return _check(cls, name, rule, value.item())
            else:
                raise _fail(cls, name, f"expected a whole number, got {value!r}")
        if rule == "count" and value < 0:
            raise _fail(cls, name, f"must not be negative, got {value}")
        return int(value)
    if rule in ("nonneg", "unit", "corr", "ceiling", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if hasattr(value, "item") and not isinstance(value, str):
                return _check(cls, name, rule, value.item())
            raise _fail(cls, name, f"expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise _fail(cls, name, f"must be a finite number, got {value}")
        bounds = {
            "nonneg": (0.0, math.inf, "must not be negative"),
            "unit": (0.0, 1.0, "must lie in [0, 1]"),
            "corr": (-1.0, 1.0, "must lie in [-1, 1]"),
            "ceiling": (0.0, 1.0, "must lie in (0, 1]"),
            "float": (-math.inf, math.inf, ""),
        }[rule]
        lo, hi, message = bounds
        if value < lo or value > hi or (rule == "ceiling" and value == 0.0):
            raise _fail(cls, name, f"{message}, got {value}")
        return value
    if rule == "sha256":
        if not isinstance(value, str) or not _SHA256_RE.match(value):
            raise _fail(cls, name, f"expected 64 lowercase hex digits, got {value!r}")
        return value
    if rule == "time":
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise _fail(cls, name, f"expected an ISO timestamp, got {value!r}") from None
        if not isinstance(value, dt.datetime):
            raise _fail(cls, name, f"expected a timestamp, got {value!r}")
        if value.tzinfo is not None:  # the catalog stores naive UTC
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if rule == "json":
        if not isinstance(value, Mapping):
            raise _fail(cls, name, f"expected a mapping, got {type(value).__name__}")
        try:
            text = json.dumps(value, sort_keys=True, allow_nan=False, default=str)
        except ValueError:
            raise _fail(cls, name, "must not hold NaN or infinite numbers") from None
        return json.loads(text)
    raise AssertionError(f"unknown rule {rule}")  # a bug in this module, not user input


@dataclass(frozen=True, kw_only=True)
class ModelRecord(_Record):
    """One model: the columns of ``models`` (the model half of the ``scores`` view).

    A ``None`` field keeps the value already stored, so a partial record (a hub push
    that knows only the repo, a scorer that knows only the architecture) never erases what
    a training run wrote. A new model without ``samples_per_class`` or ``seed`` gets 0 (the
    full data set, seed 0), as the ``models`` table needs both.
    """

    kind: ClassVar[str] = "model"
    model_id: str
    arch: str
    samples_per_class: int | None = None
    seed: int | None = None
    short_id: str | None = None
    arch_family: str | None = None
    dataset: str | None = None
    n_samples: int | None = None
    n_epochs: int | None = None
    n_samples_seen: int | None = None
    n_params: int | None = None
    macs: float | None = None
    flops: float | None = None
    total_flops: float | None = None
    count_convention: str | None = None
    acc: float | None = None
    width: float | None = None
    depth: str | None = None
    is_pretrained: bool = False
    is_random: bool = False
    is_ssl: bool = False
    is_adv: bool = False
    is_ablation: bool = False
    is_open_clip: bool = False
    ssl_method: str | None = None
    adv_method: str | None = None
    checkpoint_url: str | None = None
    hub_repo: str | None = None
    manifest_sha256: str | None = None
    source: str = "vvshub"

    _rules: ClassVar[dict[str, str]] = {
        "model_id": "id",
        "arch": "id",
        "samples_per_class": "count",
        "seed": "count",
        "short_id": "text",
        "arch_family": "text",
        "dataset": "text",
        "n_samples": "count",
        "n_epochs": "count",
        "n_samples_seen": "count",
        "n_params": "count",
        "macs": "nonneg",
        "flops": "nonneg",
        "total_flops": "nonneg",
        "count_convention": "text",
        "acc": "unit",
        "width": "nonneg",
        "depth": "text",
        "is_pretrained": "bool",
        "is_random": "bool",
        "is_ssl": "bool",
        "is_adv": "bool",
        "is_ablation": "bool",
        "is_open_clip": "bool",
        "ssl_method": "text",
        "adv_method": "text",
        "checkpoint_url": "text",
        "hub_repo": "text",
        "manifest_sha256": "sha256",
        "source": "id",
    }


@dataclass(frozen=True, kw_only=True)
class CheckpointRecord(_Record):
    """One checkpoint file of a model: where it lives and its sha256.

    Keyed by ``(model_id, epoch)``; ``None`` fields keep stored values.
    """

    kind: ClassVar[str] = "checkpoint"
    model_id: str
    epoch: int
    sha256: str | None = None
    size_bytes: int | None = None
    hub_repo: str | None = None
    revision: str | None = None
    path: str | None = None
    url: str | None = None
    arch: str | None = None
    arch_family: str | None = None
    is_benchmarked: bool = False
    source: str = "vvshub"

    _rules: ClassVar[dict[str, str]] = {
        "model_id": "id",
        "epoch": "count",
        "sha256": "sha256",
        "size_bytes": "count",
        "hub_repo": "text",
        "revision": "text",
        "path": "text",
        "url": "text",
        "arch": "text",
        "arch_family": "text",
        "is_benchmarked": "bool",
        "source": "id",
    }


@dataclass(frozen=True, kw_only=True)
class BenchmarkRecord(_Record):
    """A benchmark: a stimulus set, an assembly, a metric and a ceiling, for one region."""

    kind: ClassVar[str] = "benchmark"
    benchmark: str
    region: str
    source: str
    metric: str
    version: str
    ceiling_method: str
    normalisation: str
    suite: str | None = None

    _rules: ClassVar[dict[str, str]] = {
        "benchmark": "id",
        "source": "id",
        "metric": "id",
        "version": "id",
        "ceiling_method": "id",
        "suite": "text",
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {
        "region": REGIONS,
        "normalisation": NORMALISATIONS,
    }


@dataclass(frozen=True, kw_only=True)
class ScoreRecord(_Record):
    """One model's score on one benchmark, with what it takes to re-normalise it.

    ``score`` is the ceiled score in [0, 1] (clip before recording); ``raw_score`` the
    unceiled value (a correlation), ``ceiling`` the benchmark's ceiling and
    ``normalisation`` how the three relate. Keyed by
    ``(model_id, benchmark, source, scorer_version)``.
    """

    kind: ClassVar[str] = "score"
    model_id: str
    benchmark: str
    region: str
    score: float | None
    scorer_version: str
    raw_score: float | None = None
    ceiling: float | None = None
    normalisation: str | None = None
    error: float | None = None
    layer: str | None = None
    suite: str | None = None
    benchmark_version: str | None = None
    source: str = "vvshub"
    recorded_at: dt.datetime | None = None

    _rules: ClassVar[dict[str, str]] = {
        "model_id": "id",
        "benchmark": "id",
        "score": "unit",
        "scorer_version": "id",
        "raw_score": "corr",
        "ceiling": "ceiling",
        "error": "nonneg",
        "layer": "text",
        "suite": "text",
        "benchmark_version": "text",
        "source": "id",
        "recorded_at": "time",
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {
        "region": REGIONS,
        "normalisation": NORMALISATIONS,
    }


@dataclass(frozen=True, kw_only=True)
class LayerScoreRecord(_Record):
    """One cell of a model's layer x benchmark matrix (the commitment's evidence).

    ``split`` says which images scored it: ``all``, or with held-out selection the
    ``select`` half (used to choose the layer) and the ``report`` half.
    """

    kind: ClassVar[str] = "layer_score"
    model_id: str
    benchmark: str
    layer: str
    scorer_version: str
    score: float | None = None
    raw_score: float | None = None
    ceiling: float | None = None
    split: str = "all"
    suite: str | None = None
    source: str = "vvshub"

    _rules: ClassVar[dict[str, str]] = {
        "model_id": "id",
        "benchmark": "id",
        "layer": "id",
        "scorer_version": "id",
        "score": "unit",
        "raw_score": "corr",
        "ceiling": "ceiling",
        "suite": "text",
        "source": "id",
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"split": ("all", "select", "report")}


@dataclass(frozen=True, kw_only=True)
class EpochMetrics(_Record):
    """Metrics of one training epoch."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    acc: float | None = None
    loss: float | None = None
    n_samples_seen: int | None = None
    wall_time_s: float | None = None
    lr: float | None = None

    _rules: ClassVar[dict[str, str]] = {
        "epoch": "count",
        "acc": "unit",
        "loss": "nonneg",
        "n_samples_seen": "count",
        "wall_time_s": "nonneg",
        "lr": "nonneg",
    }


@dataclass(frozen=True, kw_only=True)
class TrainingRunRecord(_Record):
    """One training run: its full config, data manifest, device, time and per-epoch metrics."""

    kind: ClassVar[str] = "training_run"
    run_id: str
    model_id: str
    config: Mapping[str, Any] = field(default_factory=dict)
    manifest_sha256: str | None = None
    status: str = "finished"
    device: str | None = None
    wall_time_s: float | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    epochs: tuple[EpochMetrics, ...] = ()

    _rules: ClassVar[dict[str, str]] = {
        "run_id": "id",
        "model_id": "id",
        "config": "json",
        "manifest_sha256": "sha256",
        "device": "text",
        "wall_time_s": "nonneg",
        "started_at": "time",
        "finished_at": "time",
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"status": ("finished", "failed", "running")}

    def __post_init__(self) -> None:
        super().__post_init__()
        epochs = []
        for e in self.epochs:
            if isinstance(e, Mapping):
                e = EpochMetrics.from_dict(e)
            if not isinstance(e, EpochMetrics):
                raise _fail(type(self), "epochs", f"expected EpochMetrics, got {e!r}")
            epochs.append(e)
        numbers = [e.epoch for e in epochs]
        if len(set(numbers)) != len(numbers):
            raise _fail(type(self), "epochs", f"epoch numbers repeat: {numbers}")
        object.__setattr__(self, "epochs", tuple(epochs))


@dataclass(frozen=True, kw_only=True)
class FitRecord(_Record):
    """A scaling-law fit as the ``fits`` table stores it (see ``vvshub.laws``)."""

    kind: ClassVar[str] = "fit"
    fit_id: str
    query: str
    data_hash: str
    form: str
    options: Mapping[str, Any]
    params: Mapping[str, Any]
    objective: float | None
    n_rows: int
    n_bootstrap: int
    bootstrap: Mapping[str, Any] = field(default_factory=dict)
    vvshub_version: str | None = None

    _rules: ClassVar[dict[str, str]] = {
        "fit_id": "id",
        "query": "multiline",
        "data_hash": "id",
        "form": "id",
        "options": "json",
        "params": "json",
        "objective": "float",
        "n_rows": "count",
        "n_bootstrap": "count",
        "bootstrap": "json",
        "vvshub_version": "text",
    }


Record = (
    ModelRecord
    | CheckpointRecord
    | BenchmarkRecord
    | ScoreRecord
    | LayerScoreRecord
    | TrainingRunRecord
    | FitRecord
)

_KINDS: dict[str, type[_Record]] = {
    cls.kind: cls
    for cls in (
        ModelRecord,
        CheckpointRecord,
        BenchmarkRecord,
        ScoreRecord,
        LayerScoreRecord,
        TrainingRunRecord,
        FitRecord,
    )
}


def record_from_dict(data: Mapping[str, Any]) -> Record:
    """Rebuild a record from ``{"kind": ..., **to_dict()}`` (the spool's format).

    Raises:
        RecordError: an unknown kind or an invalid record.
    """
    kind = data.get("kind")
    cls = _KINDS.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise RecordError(
            f"unknown record kind {kind!r}; expected one of {', '.join(_KINDS)}", field="kind"
        )
    return cls.from_dict(data)  # type: ignore[no-any-return]
