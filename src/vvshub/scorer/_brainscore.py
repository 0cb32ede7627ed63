"""Brain-Score's own benchmarks on a vvshub model (the optional ``brainscore`` extra).

``brainscore-vision`` runs a model through its ``BrainModel`` interface: a benchmark calls
``start_recording(region, time_bins)`` or ``start_task(task, fitting_stimuli)``, then
``look_at(stimuli)``, and compares what comes back with its primate data. This module
puts vvshub's own pieces behind that interface: the model loading (``timm/NAME``, zoo and
hub ids), the preprocessing, the cached activation extraction, the layer-to-region
commitment (a region -> layer map given explicitly, or the layers a prior
``vvshub score`` committed, read from the catalog) and the logistic readout on the
penultimate features for choice probabilities.

brainscore-vision is imported lazily, never by ``import vvshub``; its plugins must not
pip-install their own requirements (an unpinned torch), so ``BS_INSTALL_DEPENDENCIES``
defaults to ``no`` before the import. Its benchmark data live on S3: scoring a registered
benchmark needs network access (or the files already in ``$BRAINIO_HOME``).

Example:
    >>> from vvshub.scorer import score_on_brainscore
    >>> res = score_on_brainscore(  # doctest: +SKIP
    ...     "timm/resnet18", "MajajHong2015public.IT-pls", layers={"IT": "layer3.1"}
    ... )
    >>> res.score, res.raw, res.ceiling  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.errors import (
    BenchmarkDataError,
    BenchmarkNotFoundError,
    BrainScoreError,
    BrainScoreNotInstalledError,
    BrainScoreTaskError,
    CatalogError,
    LayerNotFoundError,
)
from vvshub.scorer._activations import PRE_LOGITS, Preprocessing, candidate_layers
from vvshub.scorer._data import StimulusSet

if TYPE_CHECKING:
    from vvshub.scorer._models import ResolvedModel

__all__ = [
    "ADAPTER_VERSION",
    "BRAINSCORE_BENCHMARKS",
    "INSTALL_HINT",
    "BrainScoreModel",
    "BrainScoreResult",
    "BrainScoreSuiteResult",
    "brain_model",
    "committed_layers",
    "import_brainscore",
    "parse_layer_map",
    "score_brainscore_suite",
    "score_on_brainscore",
]

logger = logging.getLogger(__name__)

#: Version of this adapter (part of every recorded ``scorer_version``).
ADAPTER_VERSION = "1"
#: How to install the extra (quoted by every "not installed" error).
INSTALL_HINT = "BS_INSTALL_DEPENDENCIES=no pip install 'vvshub[brainscore]'"
#: Brain-Score's public benchmark for each region ``vvshub score --suite brainscore`` runs.
BRAINSCORE_BENCHMARKS: dict[str, str] = {
    "V1": "FreemanZiemba2013public.V1-pls",
    "V2": "FreemanZiemba2013public.V2-pls",
    "V4": "MajajHong2015public.V4-pls",
    "IT": "MajajHong2015public.IT-pls",
    "behavior": "Rajalingham2018public-i2n",
}
#: The study's stimuli span 8 degrees of visual angle (so do Brain-Score's models by default).
VISUAL_DEGREES = 8
SOURCE = "brainscore-vision"
SUITE = "brainscore"
_NEURAL = ("V1", "V2", "V4", "IT")
_CATALOG_REGION = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT", "behavior": "Behavioral"}

# The layer a prior score committed per region: real data only (a layer chosen on the
# synthetic suite's simulated responses says nothing about the brain), the latest first.
_COMMITTED_SQL = """
SELECT b.region, r.layer, r.benchmark, r.source
FROM score_records r
JOIN benchmarks b USING (benchmark)
WHERE r.model_id = ?
  AND r.layer IS NOT NULL
  AND r.layer <> ?
  AND r.source <> 'vvshub-synthetic'
  AND b.region IN ('V1', 'V2', 'V4', 'IT')
ORDER BY r.recorded_at DESC
"""


def import_brainscore() -> Any:
    """``brainscore_vision``, imported with ``BS_INSTALL_DEPENDENCIES=no`` unless set otherwise.

    Raises:
        BrainScoreNotInstalledError: the ``brainscore`` extra is not installed.
    """
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
    try:
        import brainscore_vision
    except ImportError as exc:
        raise BrainScoreNotInstalledError(
            f"brainscore-vision is not installed ({type(exc).__name__}: {exc}); install the "
            f"extra with `{INSTALL_HINT}` (BS_INSTALL_DEPENDENCIES=no stops its plugins from "
            "pip-installing another torch)"
        ) from None
    return brainscore_vision


def _brainscore_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brainscore-vision")
    except PackageNotFoundError:
        return "unknown"


def parse_layer_map(text: str | Mapping[str, Any] | None) -> dict[str, str | list[str]]:
    """A region -> layer map from ``IT=layer3.1,V4=layer2.1`` (or a mapping, checked).

    A region may read out of several layers: ``IT=layer3.0+layer3.1``.

    Raises:
        LayerNotFoundError: an entry without ``=``, or a region other than V1, V2, V4, IT.
    """
    if text is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(text, Mapping):
        items = list(text.items())
    else:
        items = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            region, sep, layer = part.partition("=")
            if not sep or not layer.strip():
                raise LayerNotFoundError(
                    f"layer map entry {part!r} is not REGION=LAYER; Brain-Score's benchmarks need "
                    "a layer per region, e.g. --layers V4=layer2.1,IT=layer3.1",
                    layer=part,
                )
            items.append((region, layer))
    out: dict[str, str | list[str]] = {}
    aliases = {r.lower(): r for r in _NEURAL}
    for region, layer in items:
        name = aliases.get(str(region).strip().lower())
        if name is None:
            raise LayerNotFoundError(
                f"unknown region {region!r} in the layer map; expected some of {', '.join(_NEURAL)}",
                layer=str(layer),
            )
        layers = layer if isinstance(layer, (list, tuple)) else str(layer).split("+")
        layers = [str(x).strip() for x in layers if str(x).strip()]
        out[name] = layers[0] if len(layers) == 1 else layers
    return out


def committed_layers(model_id: str, *, catalog: str | Path | None = None) -> dict[str, str]:
    """The layer a prior ``vvshub score`` committed for each region of ``model_id``.

    Reads the catalog's score records (the latest per region, on real benchmark data:
    records of the synthetic suite are ignored).

    Returns:
        Region (``V1`` … ``IT``) -> layer; empty when the catalog has none.

    Example:
        >>> committed_layers("resnet18_timm_random_seed-0")  # doctest: +SKIP
        {'IT': 'layer3.1', 'V4': 'layer2.1'}
    """
    from vvshub.catalog import open_catalog

    try:
        with open_catalog(catalog) as cat:
            rows = cat.fetchall(_COMMITTED_SQL, [model_id, PRE_LOGITS])
    except CatalogError:
        return {}
    out: dict[str, str] = {}
    for region, layer, _bench, _source in rows:
        out.setdefault(str(region), str(layer))
    return out


# --- the BrainModel ------------------------------------------------------------------------


def _time_bins(time_bins: Any) -> list[tuple[int, int]]:
    """Brain-Score's time bins ([(70, 170)], a 0-d object array holding a tuple, ...) as pairs."""
    out = []
    for tb in list(time_bins or []):
        value = tb.item() if isinstance(tb, np.ndarray) and tb.ndim == 0 else tb
        start, end = (int(v) for v in value)
        out.append((start, end))
    return out


def _read(path: Path, stimulus_id: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BenchmarkDataError(
            f"stimulus {stimulus_id!r}: cannot read {str(path)!r} ({exc.strerror or exc})"
        ) from None


def _stimulus_set(stimuli: Any) -> tuple[StimulusSet, dict[str, np.ndarray]]:
    """A Brain-Score stimulus set (a DataFrame with ``get_stimulus``) or a list of image paths,
    as vvshub's :class:`StimulusSet` and the presentation coordinates to return with it."""
    if hasattr(stimuli, "columns") and hasattr(stimuli, "get_stimulus"):
        ids = [str(s) for s in stimuli["stimulus_id"]]
        paths = [Path(str(stimuli.get_stimulus(s))) for s in stimuli["stimulus_id"]]
        meta = {str(c): np.asarray(stimuli[c].values) for c in stimuli.columns}
        name = getattr(stimuli, "identifier", None) or "brainscore-stimuli"
    else:
        paths = [Path(str(p)) for p in stimuli]
        ids = [str(p) for p in paths]
        meta = {}
        name = "brainscore-paths"
    meta["stimulus_id"] = np.asarray(ids, dtype=object)
    meta.setdefault("stimulus_path", np.asarray([str(p) for p in paths], dtype=object))
    vs = StimulusSet(
        name=str(name),
        stimulus_ids=tuple(ids),
        load=lambda i: _read(paths[i], ids[i]),
    )
    return vs, meta


class BrainScoreModel:
    """A vvshub model behind Brain-Score's ``BrainModel`` interface.

    Neural recordings: the activations of the layer(s) committed to the recorded region,
    one neuroid per unit, repeated over the requested time bins (the model is static).
    ``probabilities``: a multinomial logistic readout (``C = 1e-3``, standardised
    features, :func:`~vvshub.scorer.logistic_readout`) fitted on the readout layer's
    features of the fitting stimuli (``image_label``) gives choice probabilities.
    Activations go through vvshub's activation cache (keyed on the weights' sha256).

    Build it with :func:`brain_model`, which also makes it an instance of Brain-Score's
    ``BrainModel`` class.

    Attributes:
        resolved: the model and what the catalog knows about it.
        region_layer_map: region -> layer (or layers) recorded from.
        readout: layer of the behavioural readout (``pre_logits``).
        preprocessing: how images become tensors.
    """

    def __init__(
        self,
        resolved: ResolvedModel,
        *,
        region_layer_map: Mapping[str, str | list[str]],
        readout: str = PRE_LOGITS,
        preprocessing: Preprocessing | None = None,
        visual_degrees: float = VISUAL_DEGREES,
        device: str | None = None,
        batch_size: int = 32,
        seed: int = 0,
        use_cache: bool = True,
    ) -> None:
        from vvshub.scorer._activations import preprocessing_for
        from vvshub.scorer._api import _Features

        self.resolved = resolved
        self.region_layer_map = dict(region_layer_map)
        self.readout = readout
        self.preprocessing = preprocessing or preprocessing_for(
            resolved.module, pretrained=resolved.is_pretrained
        )
        self._visual_degrees = visual_degrees
        self.device = device
        self._features = _Features(
            resolved,
            self.preprocessing,
            device=device,
            batch_size=batch_size,
            seed=seed,
            use_cache=use_cache,
        )
        self._mode: str | None = None  # "recording" or "probabilities"
        self._region: str | None = None
        self._time_bins: list[tuple[int, int]] = []
        self._fit: tuple[np.ndarray, np.ndarray] | None = None
        self._choices: tuple[str, ...] = ()

    # Brain-Score's interface -------------------------------------------------------------

    @property
    def identifier(self) -> str:
        """The catalog id of the scored weights."""
        return self.resolved.model_id

    def visual_degrees(self) -> float:
        """Degrees of visual angle the model's input spans (the study's 8)."""
        return self._visual_degrees

    def start_recording(self, recording_target: str, time_bins: Any = None) -> None:
        """Record from ``recording_target`` (``V1`` … ``IT``) in the given time bins."""
        region = str(recording_target)
        if region not in self.region_layer_map:
            raise LayerNotFoundError(
                f"no layer committed to region {region!r} for {self.identifier!r}; the map has "
                f"{', '.join(self.region_layer_map) or 'no region'}; pass one (--layers "
                f"{region}=LAYER) or score the model on that region first (vvshub score ... "
                "--suite brainio)",
                layer=None,
                valid=candidate_layers(self.resolved.module),
            )
        self._mode, self._region = "recording", region
        self._time_bins = _time_bins(time_bins)

    def start_task(self, task: str, fitting_stimuli: Any = None, **_: Any) -> None:
        """Perform ``passive`` fixation or report ``probabilities`` (fitted on ``fitting_stimuli``)."""
        if task == "passive":
            self._mode = "passive"
            return
        if task != "probabilities":
            raise BrainScoreTaskError(
                f"the benchmark asks for task {task!r}, which the vvshub adapter does not perform; "
                "it performs passive, probabilities and neural recordings (V1, V2, V4, IT)"
            )
        if fitting_stimuli is None or "image_label" not in getattr(fitting_stimuli, "columns", ()):
            raise BenchmarkDataError(
                "the probabilities task needs fitting stimuli with an image_label column"
            )
        stimuli, _ = _stimulus_set(fitting_stimuli)
        feats = self._features.get(stimuli, [self.readout])[self.readout][0]
        labels = [str(x) for x in fitting_stimuli["image_label"]]
        self._choices = tuple(dict.fromkeys(labels))  # Brain-Score's order: first appearance
        index = {c: i for i, c in enumerate(self._choices)}
        self._fit = (feats, np.array([index[x] for x in labels]))
        self._mode = "probabilities"

    def look_at(self, stimuli: Any, number_of_trials: int = 1, **_: Any) -> Any:
        """Run the stimuli; return recordings or choice probabilities as instructed.

        Args:
            stimuli: a Brain-Score ``StimulusSet`` or a list of image paths.
            number_of_trials: ignored (the model is deterministic).

        Returns:
            A ``NeuroidAssembly`` (presentation x neuroid [x time_bin]) while recording, a
            ``BehavioralAssembly`` (presentation x choice) for ``probabilities``, None when
            passive.
        """
        from brainscore_core.supported_data_standards.brainio.assemblies import (
            BehavioralAssembly,
            NeuroidAssembly,
        )

        if self._mode == "passive":
            return None
        vs, meta = _stimulus_set(stimuli)
        coords: dict[str, Any] = {k: ("presentation", v) for k, v in meta.items()}
        if self._mode == "probabilities":
            from vvshub.scorer._behavior import logistic_readout

            if self._fit is None:
                raise BrainScoreTaskError("the probabilities task was started without a readout")
            test = self._features.get(vs, [self.readout])[self.readout][0]
            probs = logistic_readout(
                self._fit[0],
                self._fit[1],
                test,
                c=1e-3,
                n_classes=len(self._choices),
                device=self.device,
            )
            coords["choice"] = ("choice", list(self._choices))
            return BehavioralAssembly(probs, coords=coords, dims=["presentation", "choice"])
        if self._mode != "recording" or self._region is None:
            raise BrainScoreTaskError(
                "look_at before start_recording or start_task: the benchmark gave no instruction"
            )
        mapped = self.region_layer_map[self._region]
        layers = [mapped] if isinstance(mapped, str) else list(mapped)
        feats = self._features.get(vs, layers)
        blocks, names = [], []
        for layer in layers:
            values = feats[layer][0]
            blocks.append(values)
            names += [layer] * values.shape[1]
        data = np.concatenate(blocks, axis=1)
        n = data.shape[1]
        coords["neuroid_id"] = ("neuroid", [f"{name}.{i}" for i, name in enumerate(names)])
        coords["neuroid_num"] = ("neuroid", np.arange(n))
        coords["layer"] = ("neuroid", names)
        coords["region"] = ("neuroid", [self._region] * n)
        if not self._time_bins:
            return NeuroidAssembly(data, coords=coords, dims=["presentation", "neuroid"])
        bins = self._time_bins
        coords["time_bin_start"] = ("time_bin", [b[0] for b in bins])
        coords["time_bin_end"] = ("time_bin", [b[1] for b in bins])
        data = np.repeat(data[:, :, None], len(bins), axis=2)
        return NeuroidAssembly(data, coords=coords, dims=["presentation", "neuroid", "time_bin"])


@functools.cache
def _brain_model_class() -> type:
    """:class:`BrainScoreModel` that is also a Brain-Score ``BrainModel`` (made once, lazily)."""
    import_brainscore()
    from brainscore_vision.model_interface import BrainModel

    return type("VvsHubBrainModel", (BrainScoreModel, BrainModel), {})


def brain_model(
    model_or_id: Any,
    *,
    layers: str | Mapping[str, Any] | None = None,
    regions: Sequence[str] = (),
    weights: str = "pretrained",
    revision: str | None = None,
    seed: int = 0,
    model_id: str | None = None,
    preprocessing: Preprocessing | None = None,
    device: str | None = None,
    batch_size: int = 32,
    catalog: str | Path | None = None,
    use_cache: bool = True,
) -> BrainScoreModel:
    """A vvshub model as a Brain-Score ``BrainModel``.

    Args:
        model_or_id: an ``nn.Module``, ``timm/NAME``, a zoo id or a hub id.
        layers: region -> layer map (``{"IT": "layer3.1"}`` or ``"IT=layer3.1,V4=layer2.1"``);
            regions it leaves out take the layer a prior ``vvshub score`` committed (catalog).
        regions: regions that must have a layer (checked now, not mid-benchmark).
        weights, revision, seed, model_id: as for :func:`vvshub.score`.
        preprocessing: how images become tensors (default: the study's 256 -> 224, or a
            pretrained timm model's own data config).
        device: ``cuda``/``cpu`` (default: CUDA when present).
        batch_size: images per forward pass.
        catalog: where to read committed layers (default ``$VVSHUB_HOME/catalog.duckdb``).
        use_cache: read and write vvshub's activation cache.

    Raises:
        BrainScoreNotInstalledError: the ``brainscore`` extra is missing.
        LayerNotFoundError: a region in ``regions`` without a layer, or a layer the model lacks.

    Example:
        >>> bm = brain_model("timm/resnet18", weights="random", layers="IT=layer3.1")  # doctest: +SKIP
        >>> bm.start_recording("IT", [(70, 170)])  # doctest: +SKIP
    """
    from vvshub.scorer._activations import _check_layers
    from vvshub.scorer._models import resolve_model

    cls = _brain_model_class()
    given = parse_layer_map(layers)
    resolved = resolve_model(
        model_or_id, weights=weights, revision=revision, seed=seed, model_id=model_id
    )
    mapping: dict[str, str | list[str]] = {
        **committed_layers(resolved.model_id, catalog=catalog),
        **given,
    }
    missing = [r for r in regions if r in _NEURAL and r not in mapping]
    if missing:
        raise LayerNotFoundError(
            f"no layer for {', '.join(missing)} of {resolved.model_id!r}: none given and none "
            "committed in the catalog; pass --layers "
            + ",".join(f"{r}=LAYER" for r in missing)
            + f" (layers: {', '.join(candidate_layers(resolved.module))}) or run `vvshub score "
            f"{resolved.label or resolved.model_id} --suite brainio` first",
            valid=candidate_layers(resolved.module),
        )
    # the layers asked for now; a stale committed layer of another region fails when recorded
    for region, value in mapping.items():
        if region in given or region in regions:
            _check_layers(resolved.module, [value] if isinstance(value, str) else value)
    return cls(
        resolved,
        region_layer_map=mapping,
        preprocessing=preprocessing,
        device=device,
        batch_size=batch_size,
        seed=seed,
        use_cache=use_cache,
    )


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrainScoreResult:
    """One Brain-Score benchmark's verdict on a vvshub model.

    Attributes:
        model: catalog id of the scored weights.
        benchmark: Brain-Score's benchmark identifier.
        region: ``V1`` … ``IT``, ``behavior``, or None (another kind of benchmark).
        score: the benchmark's ceiled score.
        raw: unceiled score (``score.attrs['raw']``), when the benchmark gives one.
        ceiling: the benchmark's ceiling (``score.attrs['ceiling']``).
        error: error of the score, when given.
        layer: committed layer (the readout layer for behaviour).
        normalisation: how ``score`` relates to ``raw`` and ``ceiling`` (``squared_over_ceiling``
            for Brain-Score 2.4.2's neural benchmarks, ``ratio_sqrt_ceiling`` for i2n), or None.
        benchmark_version: the benchmark's version.
        scorer_version: ``brainscore-vision-<version>+vvshub-adapter-<version>``.
        seconds: wall time.
        brainscore: Brain-Score's ``Score`` object itself.
        recorded: catalog write summary, or None when not recorded.
    """

    model: str
    benchmark: str
    region: str | None
    score: float
    raw: float | None
    ceiling: float | None
    error: float | None
    layer: str | None
    normalisation: str | None
    benchmark_version: str | None
    scorer_version: str
    seconds: float
    brainscore: Any = field(default=None, repr=False, compare=False)
    recorded: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (without the ``Score`` object)."""
        out = {k: v for k, v in self.__dict__.items() if k != "brainscore"}
        out["source"] = SOURCE
        return out


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    arr = np.asarray(getattr(value, "values", value), dtype=float)
    if arr.size != 1:
        return None
    out = float(arr.reshape(()))
    return out if math.isfinite(out) else None


def _score_value(score: Any) -> float:
    if "aggregation" in getattr(score, "dims", ()):  # older Brain-Score: center and error
        score = score.sel(aggregation="center")
    value = _scalar(score)
    if value is None:
        raise BrainScoreError(f"the benchmark returned a score that is not one number: {score!r}")
    return value


_FORMS = {
    "squared_over_ceiling": lambda r, c: r * r / c,
    "ratio_squared": lambda r, c: (r / c) ** 2,
    "ratio": lambda r, c: r / c,
    "ratio_sqrt_ceiling": lambda r, c: r / np.sqrt(c),
}


def _per_split(value: Any) -> np.ndarray | None:
    """Per-split values behind a Brain-Score score (``attrs['raw']`` over a ``split`` dim)."""
    inner = getattr(value, "attrs", {}).get("raw") if value is not None else None
    if inner is None or "split" not in getattr(inner, "dims", ()) or inner.ndim != 1:
        return None
    return np.asarray(inner.values, dtype=float)


def _normalisation(score: float, raw_obj: Any, ceiling_obj: Any) -> str | None:
    """Which of the catalog's normalisations turns the raw score and the ceiling into ``score``:
    on the aggregates (neural benchmarks: r^2/c), else per split and averaged (i2n ceils each
    split by its own ceiling); None when none reproduces it."""
    raw, ceiling = _scalar(raw_obj), _scalar(ceiling_obj)
    if raw is None or not ceiling or ceiling <= 0:
        return None
    tol = 1e-6 + 1e-6 * abs(score)
    for name, form in _FORMS.items():
        if abs(float(form(raw, ceiling)) - score) <= tol:
            return name
    raws, ceilings = _per_split(raw_obj), _per_split(ceiling_obj)
    if raws is not None and ceilings is not None and raws.shape == ceilings.shape:
        for name, form in _FORMS.items():
            with np.errstate(divide="ignore", invalid="ignore"):
                value = float(np.mean(form(raws, ceilings)))
            if abs(value - score) <= tol:
                return name
    return None


def _region_of(benchmark: Any) -> str | None:
    for attr in ("region", "parent"):
        value = str(getattr(benchmark, attr, "") or "")
        if value in _NEURAL:
            return value
        if value.lower() in ("behavior", "behaviour", "behavioral"):
            return "behavior"
    return None


def _load_benchmark(bs: Any, identifier: str) -> Any:
    try:
        return bs.load_benchmark(identifier)
    except AssertionError as exc:  # brainscore's "No registrations found for ..."
        raise BenchmarkNotFoundError(
            f"brainscore-vision has no benchmark {identifier!r} ({exc}); its public ones "
            f"include {', '.join(BRAINSCORE_BENCHMARKS.values())}"
        ) from None
    except Exception as exc:
        raise BrainScoreError(
            f"brainscore-vision could not load benchmark {identifier!r} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); its data come from S3, so "
            "this needs network access (or the files in $BRAINIO_HOME), and its plugins need the "
            f"extra's full dependencies (`{INSTALL_HINT}`)"
        ) from None


def score_on_brainscore(
    model: Any,
    benchmark: Any,
    *,
    layers: str | Mapping[str, Any] | None = None,
    weights: str = "pretrained",
    revision: str | None = None,
    seed: int = 0,
    model_id: str | None = None,
    device: str | None = None,
    batch_size: int = 32,
    record: bool = True,
    catalog: str | Path | None = None,
    use_cache: bool = True,
) -> BrainScoreResult:
    """Score a vvshub model on one of Brain-Score's own benchmarks, through brainscore-vision.

    Args:
        model: a :class:`BrainScoreModel` (from :func:`brain_model`), an ``nn.Module``,
            ``timm/NAME``, a zoo id or a hub id.
        benchmark: a Brain-Score benchmark identifier (``MajajHong2015public.IT-pls``,
            loaded with ``brainscore_vision.load_benchmark``: needs network for its S3 data)
            or a Brain-Score benchmark object.
        layers: region -> layer map (see :func:`brain_model`); default: the catalog's
            committed layers.
        weights, revision, seed, model_id, device, batch_size, use_cache: see :func:`brain_model`.
        record: write the score, the benchmark and the model to the catalog
            (``source="brainscore-vision"``, suite ``brainscore``).
        catalog: catalog file (default ``$VVSHUB_HOME/catalog.duckdb``).

    Returns:
        A :class:`BrainScoreResult` (``.brainscore`` holds Brain-Score's ``Score``).

    Raises:
        BrainScoreNotInstalledError: the ``brainscore`` extra is missing.
        BenchmarkNotFoundError: an identifier brainscore-vision does not know.
        BrainScoreError: a benchmark that cannot be loaded (offline, missing plugin dependency).

    Example:
        >>> res = score_on_brainscore("timm/alexnet", "MajajHong2015public.IT-pls",  # doctest: +SKIP
        ...                           layers="IT=features.12")
        >>> res.score  # doctest: +SKIP
    """
    bs = import_brainscore()
    t0 = time.perf_counter()
    bench = _load_benchmark(bs, benchmark) if isinstance(benchmark, str) else benchmark
    region = _region_of(bench)
    if isinstance(model, BrainScoreModel):
        candidate = model
        if layers is not None:
            candidate.region_layer_map.update(parse_layer_map(layers))
    else:
        candidate = brain_model(
            model,
            layers=layers,
            regions=[region] if region else (),
            weights=weights,
            revision=revision,
            seed=seed,
            model_id=model_id,
            device=device,
            batch_size=batch_size,
            catalog=catalog,
            use_cache=use_cache,
        )
    from brainscore_core.benchmarks import score_benchmark

    bs_score = score_benchmark(bench, candidate)
    value = _score_value(bs_score)
    raw_obj = bs_score.attrs.get("raw")
    raw = _scalar(raw_obj)
    ceiling = _scalar(bs_score.attrs.get("ceiling"))
    error = _scalar(bs_score.attrs.get("error"))
    if error is None and raw_obj is not None and hasattr(raw_obj, "attrs"):
        error = _scalar(raw_obj.attrs.get("error"))
    layer: str | None = None
    if region == "behavior":
        layer = candidate.readout
    elif region in candidate.region_layer_map:
        mapped = candidate.region_layer_map[region]
        layer = mapped if isinstance(mapped, str) else "+".join(mapped)
    version = getattr(bench, "version", None)
    result = BrainScoreResult(
        model=candidate.identifier,
        benchmark=str(bench.identifier),
        region=region,
        score=value,
        raw=raw,
        ceiling=ceiling,
        error=abs(error) if error is not None else None,
        layer=layer,
        normalisation=_normalisation(value, raw_obj, bs_score.attrs.get("ceiling")),
        benchmark_version=str(version) if version is not None else None,
        scorer_version=f"brainscore-vision-{_brainscore_version()}+vvshub-adapter-{ADAPTER_VERSION}",
        seconds=round(time.perf_counter() - t0, 2),
        brainscore=bs_score,
    )
    if record:
        result = replace(result, recorded=_record(result, candidate.resolved, catalog=catalog))
    return result


def _metric_of(identifier: str) -> str:
    """``pls`` of ``MajajHong2015public.IT-pls``, ``i2n`` of ``Rajalingham2018public-i2n``."""
    return identifier.rsplit("-", 1)[-1] if "-" in identifier else "brainscore"


def _record(
    result: BrainScoreResult, resolved: ResolvedModel, *, catalog: str | Path | None
) -> dict[str, Any] | None:
    """Write ``result`` to the catalog through its write API; None when it has no catalog region."""
    from vvshub.catalog import BenchmarkRecord, ScoreRecord, record_scores
    from vvshub.scorer._record import _ceiling, _corr, _model_record

    if result.region is None:
        logger.warning(
            "%s is not a V1/V2/V4/IT/behaviour benchmark; its score is not recorded",
            result.benchmark,
        )
        return None
    region = _CATALOG_REGION[result.region]
    bench = BenchmarkRecord(
        benchmark=result.benchmark,
        region=region,
        source=SOURCE,
        metric=_metric_of(result.benchmark),
        version=result.benchmark_version or "unknown",
        ceiling_method="brainscore-vision",
        normalisation=result.normalisation or "raw",
        suite=SUITE,
    )
    score = ScoreRecord(
        model_id=result.model,
        benchmark=result.benchmark,
        region=region,
        score=float(min(max(result.score, 0.0), 1.0)),
        raw_score=_corr(result.raw) if result.raw is not None else None,
        ceiling=_ceiling(result.ceiling) if result.ceiling is not None else None,
        normalisation=result.normalisation,
        error=result.error,
        layer=result.layer,
        suite=SUITE,
        benchmark_version=result.benchmark_version,
        scorer_version=result.scorer_version,
        source=SOURCE,
    )
    written = record_scores(
        [score], benchmarks=[bench], models=[_model_record(resolved)], catalog=catalog
    )
    return written.to_dict() if hasattr(written, "to_dict") else dict(written)


@dataclass(frozen=True)
class BrainScoreSuiteResult:
    """What ``vvshub score MODEL --suite brainscore[:IDS] --json`` prints.

    Attributes:
        model: catalog id of the scored weights.
        suite: ``brainscore`` or ``brainscore:IDS``.
        results: one :class:`BrainScoreResult` per benchmark, in the order asked.
    """

    model: str
    suite: str
    results: tuple[BrainScoreResult, ...]

    @property
    def scores(self) -> dict[str, BrainScoreResult]:
        """Keyed by region (``V1`` … ``behavior``) where each region appears once, else by
        benchmark identifier."""
        regions = [r.region for r in self.results]
        return {
            (r.region if r.region and regions.count(r.region) == 1 else r.benchmark): r
            for r in self.results
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: ``model``, ``suite``, ``scores`` (each ``score``, ``raw``,
        ``ceiling``, ``layer``, ``benchmark``, …)."""
        return {
            "model": self.model,
            "suite": self.suite,
            "source": SOURCE,
            "synthetic": False,
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
        }


def score_brainscore_suite(
    model_or_id: Any,
    *,
    suite: str = SUITE,
    benchmarks: Sequence[str] | str | None = None,
    layers: str | Mapping[str, Any] | None = None,
    weights: str = "pretrained",
    revision: str | None = None,
    seed: int = 0,
    model_id: str | None = None,
    device: str | None = None,
    batch_size: int = 32,
    record: bool = True,
    catalog: str | Path | None = None,
    use_cache: bool = True,
) -> BrainScoreSuiteResult:
    """Score a model on several Brain-Score benchmarks (``vvshub score --suite brainscore``).

    Args:
        model_or_id: as for :func:`score_on_brainscore`.
        suite: ``brainscore`` (Brain-Score's public benchmark of each region in
            ``benchmarks``: :data:`BRAINSCORE_BENCHMARKS`) or ``brainscore:ID[,ID...]``.
        benchmarks: regions, when ``suite`` names no identifiers (default: all five).
        layers, weights, revision, seed, model_id, device, batch_size, record, catalog,
            use_cache: as for :func:`score_on_brainscore`.

    Example:
        >>> res = score_brainscore_suite("timm/resnet18", benchmarks="IT",  # doctest: +SKIP
        ...                              layers="IT=layer3.1")
    """
    if suite != SUITE and not suite.startswith(SUITE + ":"):
        raise BenchmarkNotFoundError(
            f"unknown suite {suite!r}; expected brainscore or brainscore:ID[,ID...]"
        )
    explicit = [b.strip() for b in suite.partition(":")[2].split(",") if b.strip()]
    bs = import_brainscore()
    if explicit:  # their regions are known once loaded
        loaded = [_load_benchmark(bs, i) for i in explicit]
        regions = [r for r in (_region_of(b) for b in loaded) if r]
    else:  # the layer map is checked before anything is downloaded
        from vvshub.scorer._api import _parse_regions

        regions = _parse_regions(benchmarks)
    candidate = brain_model(
        model_or_id,
        layers=layers,
        regions=regions,
        weights=weights,
        revision=revision,
        seed=seed,
        model_id=model_id,
        device=device,
        batch_size=batch_size,
        catalog=catalog,
        use_cache=use_cache,
    )
    if not explicit:
        loaded = [_load_benchmark(bs, BRAINSCORE_BENCHMARKS[r]) for r in regions]
    results = tuple(
        score_on_brainscore(candidate, b, record=record, catalog=catalog) for b in loaded
    )
    return BrainScoreSuiteResult(model=candidate.identifier, suite=suite, results=results)
