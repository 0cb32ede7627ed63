"""Brain-Score's own data files, read directly (no brainscore import, no network).

Brain-Score 2.4.2 keeps each downloaded file at ``$BRAINIO_HOME/<sha1>/<filename>``
(``BRAINIO_HOME`` defaults to ``~/.brainio``): assemblies as
``assy_<identifier with dots as underscores>.nc`` (an xarray NetCDF with dimensions
presentation x neuroid [x time_bin] and their coordinates), stimulus sets as
``stimulus_<identifier>.csv`` (``stimulus_id``, ``filename`` and metadata columns) plus
``stimulus_<identifier>.zip`` (the images). A researcher who ran Brain-Score once has
these files; vvshub scores on them offline.

Behaviour (Rajalingham2018) is a one-dimensional assembly, one entry per trial: the
values are the object chosen, with presentation coordinates ``image_id`` (or
``stimulus_id``), ``sample_obj``/``truth`` (the object shown) and ``dist_obj`` (the
distractor). The logistic readout is fitted on the ``objectome.public`` images and
their ``image_label`` column, as Brain-Score's ``Rajalingham2018-i2n`` does.

Regions, stimulus counts, neuroid counts and repetitions all come from the files. A file
whose sha1 is not Brain-Score's published one is still read (you may have built it), and
its benchmark version says so (``local-<sha1 prefix>``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vvshub.errors import BenchmarkDataError, BenchmarkFileNotFoundError, BenchmarkNotFoundError
from vvshub.scorer._behavior import Trials
from vvshub.scorer._data import BehaviorBenchmark, NeuralBenchmark, StimulusSet
from vvshub.scorer._synthetic import Suite

__all__ = [
    "ASSEMBLIES",
    "BEHAVIOR_ASSEMBLIES",
    "BrainioAssembly",
    "BrainioBehavior",
    "BrainioStimuli",
    "brainio_home",
    "brainio_suite",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrainioStimuli:
    """A stimulus set's files: ``stimulus_<identifier>.csv`` and ``.zip`` in sha1 folders."""

    identifier: str
    csv_sha1: str
    zip_sha1: str

    @property
    def csv_name(self) -> str:
        return f"stimulus_{self.identifier.replace('.', '_')}.csv"

    @property
    def zip_name(self) -> str:
        return f"stimulus_{self.identifier.replace('.', '_')}.zip"


@dataclass(frozen=True)
class BrainioAssembly:
    """A neural assembly's file and how Brain-Score builds its benchmarks from it.

    Attributes:
        name: data set name (``MajajHong2015``), used in benchmark ids.
        identifier: brainio identifier (``dicarlo.MajajHong2015.public``).
        sha1: the published file's sha1 (its folder in ``$BRAINIO_HOME``).
        stimuli: its stimulus set.
        stratify: the presentation coordinate cross-validation is balanced on.
        time_window: time bins averaged, [start, end) in ms; None averages all bins.
        version: benchmark version recorded with scores.
    """

    name: str
    identifier: str
    sha1: str
    stimuli: BrainioStimuli
    stratify: str
    time_window: tuple[int, int] | None = None
    version: str = "public"

    @property
    def filename(self) -> str:
        return f"assy_{self.identifier.replace('.', '_')}.nc"


#: The public assemblies of the study's neural benchmarks, as Brain-Score 2.4.2 registers them.
ASSEMBLIES: dict[str, BrainioAssembly] = {
    "MajajHong2015": BrainioAssembly(
        name="MajajHong2015",
        identifier="dicarlo.MajajHong2015.public",
        sha1="13d28ca0ce88ee550b54db3004374ae19096e9b9",
        stimuli=BrainioStimuli(
            "hvm-public",
            csv_sha1="5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af",
            zip_sha1="8aa44e038d7b551efa8077467622f9d48d72e473",
        ),
        stratify="object_name",
    ),
    "FreemanZiemba2013": BrainioAssembly(
        name="FreemanZiemba2013",
        identifier="movshon.FreemanZiemba2013.public",
        sha1="761c08f796db4e342555cdb60eef23a4f19ead43",
        stimuli=BrainioStimuli(
            "FreemanZiemba2013.aperture-public",
            csv_sha1="194c9b301a4e3e9cff02481d4c19b39331d52660",
            zip_sha1="3a6fec1fc28c212882d6833e267ea8654d289611",
        ),
        stratify="texture_type",
        time_window=(50, 200),
    ),
}


@dataclass(frozen=True)
class BrainioBehavior:
    """A behavioural assembly's file and how Brain-Score builds its i2n benchmark from it.

    Attributes:
        benchmark: Brain-Score's benchmark id (``Rajalingham2018-i2n``), stored with scores.
        identifier: brainio identifier (``dicarlo.Rajalingham2018.private``).
        sha1: the published file's sha1 (its folder in ``$BRAINIO_HOME``).
        stimuli: the images the primates saw (the trials' stimulus set).
        fitting: the labelled images the logistic readout is fitted on.
        label_column: the fitting CSV's column holding each image's object.
        version: benchmark version recorded with scores.
    """

    benchmark: str
    identifier: str
    sha1: str
    stimuli: BrainioStimuli
    fitting: BrainioStimuli
    label_column: str = "image_label"
    version: str = "public"

    @property
    def filename(self) -> str:
        return f"assy_{self.identifier.replace('.', '_')}.nc"


_OBJECTOME_PUBLIC = BrainioStimuli(
    "objectome.public",
    csv_sha1="47884e17106a3be471d6481279cab33889b80850",
    zip_sha1="064f2955f98e63867755fee2e3ead8cddf6bfab8",
)
#: Rajalingham2018 as Brain-Score 2.4.2 registers it, in the order the suite looks for it:
#: the study's benchmark (240 test images, access-restricted), then the public one (whose
#: 2,160 test images are also the readout's fitting images).
BEHAVIOR_ASSEMBLIES: tuple[BrainioBehavior, ...] = (
    BrainioBehavior(
        benchmark="Rajalingham2018-i2n",
        identifier="dicarlo.Rajalingham2018.private",
        sha1="516f13793d1c5b72bb445bb4008448ce97a02d23",
        stimuli=BrainioStimuli(
            "objectome.private",
            csv_sha1="ac38e8f7c08fa8294ed25a3bf84a6adb108bf3fc",
            zip_sha1="ccd39f7f9b8b4a92da06e3960d06225e46208593",
        ),
        fitting=_OBJECTOME_PUBLIC,
        version="private",
    ),
    BrainioBehavior(
        benchmark="Rajalingham2018public-i2n",
        identifier="dicarlo.Rajalingham2018.public",
        sha1="34c6a8b6f7c523589c1861e4123232e5f7c7df4c",
        stimuli=_OBJECTOME_PUBLIC,
        fitting=_OBJECTOME_PUBLIC,
    ),
)
#: Which assembly holds each region (the region itself is read from the assembly's coordinates).
REGION_ASSEMBLY = {
    "V1": "FreemanZiemba2013",
    "V2": "FreemanZiemba2013",
    "V4": "MajajHong2015",
    "IT": "MajajHong2015",
}


def brainio_home(folder: str | Path | None = None) -> Path:
    """``folder``, else ``$BRAINIO_HOME``, else ``~/.brainio`` (Brain-Score's default)."""
    if folder is not None:
        return Path(folder).expanduser()
    return Path(os.environ.get("BRAINIO_HOME", "~/.brainio")).expanduser()


def _find(root: Path, sha1: str, filename: str, what: str) -> Path:
    expected = root / sha1 / filename
    if expected.is_file():
        return expected
    matches = sorted(root.glob(f"*/{filename}")) if root.is_dir() else []
    if matches:
        return matches[0]
    raise BenchmarkFileNotFoundError(
        f"{what} file {filename!r} not found in {str(root)!r}; Brain-Score 2.4.2 keeps it at "
        f"{str(expected)!r} (run its benchmark once online, or copy the file there)",
        path=str(expected),
    )


@lru_cache(maxsize=16)
def _sha1(path: str, size: int, mtime: int) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_sha1(path: Path) -> str:
    st = path.stat()
    return _sha1(str(path), st.st_size, st.st_mtime_ns)


def _values(da, name: str, dim: str) -> np.ndarray | None:
    if name in da.coords and da.coords[name].dims == (dim,):
        return np.asarray(da.coords[name].values)
    return None


def _load_stimuli(
    root: Path,
    spec: BrainioStimuli,
    needed: list[str] | None,
    name: str,
    *,
    label_column: str | None = None,
) -> StimulusSet:
    """The images ``needed`` (all rows, in the CSV's order, when None), optionally labelled."""
    import pandas as pd

    csv_path = _find(root, spec.csv_sha1, spec.csv_name, "stimulus-set CSV")
    zip_path = _find(root, spec.zip_sha1, spec.zip_name, "stimulus-set zip")
    table = pd.read_csv(csv_path, dtype={"stimulus_id": str, "image_id": str})
    if "stimulus_id" not in table.columns and "image_id" in table.columns:
        # older sets name it image_id; Brain-Score's loader reads that column as stimulus_id
        table["stimulus_id"] = table["image_id"]
    for col in ("stimulus_id", "filename", *([label_column] if label_column else [])):
        if col not in table.columns:
            raise BenchmarkDataError(
                f"{str(csv_path)!r} has no {col!r} column; columns: {', '.join(table.columns)}"
            )
    ids = table["stimulus_id"].astype(str)
    rows = dict(zip(ids, table["filename"].astype(str), strict=True))
    if needed is None:
        needed = list(ids)
    unknown = [s for s in needed if s not in rows]
    if unknown:
        raise BenchmarkDataError(
            f"stimulus ids do not match: {len(unknown)} of the assembly's {len(needed)} stimuli "
            f"(e.g. {unknown[0]!r}) are not in {str(csv_path)!r}"
        )
    labels = None
    if label_column:
        column = table[label_column]
        if column.isna().any():
            bad = ids[column.isna()].iloc[0]
            raise BenchmarkDataError(
                f"{str(csv_path)!r}: {int(column.isna().sum())} image(s) have no {label_column!r} "
                f"(e.g. {bad!r}); the readout needs every image's object"
            )
        by_id = dict(zip(ids, column.astype(str), strict=True))
        labels = tuple(by_id[s] for s in needed)
    with zipfile.ZipFile(zip_path) as zf:
        by_base = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
    missing = [rows[s] for s in needed if Path(rows[s]).name not in by_base]
    if missing:
        raise BenchmarkDataError(
            f"{len(missing)} image file(s) listed in {str(csv_path)!r} are not in "
            f"{str(zip_path)!r} (e.g. {missing[0]!r})"
        )
    members = [by_base[Path(rows[s]).name] for s in needed]

    def load(i: int, _zip=str(zip_path), _members=members) -> bytes:
        with zipfile.ZipFile(_zip) as zf:
            return zf.read(_members[i])

    with zipfile.ZipFile(zip_path) as zf:  # content hash without reopening per image
        blobs_hash = hashlib.sha256()
        for sid, member in zip(needed, members, strict=True):
            blobs_hash.update(sid.encode() + b"\0")
            blobs_hash.update(hashlib.sha256(zf.read(member)).digest())
    return StimulusSet(
        name=name,
        stimulus_ids=tuple(needed),
        load=load,
        labels=labels,
        content_hash=blobs_hash.hexdigest(),
    )


def _open_assembly(path: Path):
    """The NetCDF assembly at ``path``, loaded into memory."""
    import xarray as xr

    try:
        da = xr.open_dataarray(path)
    except (OSError, ValueError) as exc:
        raise BenchmarkDataError(
            f"{str(path)!r} is not a readable NetCDF assembly ({exc})"
        ) from None
    with da:
        return da.load()


def _version(spec_version: str, spec_sha1: str, path: Path) -> str:
    """``spec_version`` for Brain-Score's published file, else ``local-<sha1 prefix>``."""
    sha1 = _file_sha1(path)
    if sha1 == spec_sha1:
        return spec_version
    logger.warning("%s: sha1 %s is not Brain-Score's published %s", path, sha1, spec_sha1)
    return f"local-{sha1[:12]}"


def _is_synthetic(da) -> bool:
    return str(da.attrs.get("synthetic", "")).lower() in ("1", "true", "yes")


def load_assembly(
    spec: BrainioAssembly, region: str, *, folder: str | Path | None = None
) -> NeuralBenchmark:
    """One region's benchmark from a brainio assembly on disk.

    Raises:
        BenchmarkFileNotFoundError: a file is missing (names where Brain-Score would keep it).
        BenchmarkDataError: ids that don't match the stimulus set, NaN responses, missing
            coordinates, too few repetitions, a region the assembly does not have.
    """
    root = brainio_home(folder)
    path = _find(root, spec.sha1, spec.filename, "assembly")
    da = _open_assembly(path)
    for dim in ("presentation", "neuroid"):
        if dim not in da.dims:
            raise BenchmarkDataError(
                f"{str(path)!r}: expected dimensions presentation x neuroid [x time_bin], got "
                f"{' x '.join(da.dims)}"
            )
    regions = _values(da, "region", "neuroid")
    if regions is None:
        raise BenchmarkDataError(f"{str(path)!r} has no 'region' coordinate on neuroid")
    found = sorted({str(r) for r in regions})
    if region not in found:
        raise BenchmarkDataError(
            f"{str(path)!r} has no {region!r} neuroids; its regions: {', '.join(found)}"
        )
    da = da.isel(neuroid=np.flatnonzero(regions.astype(str) == region))
    if "time_bin" in da.dims:
        starts = _values(da, "time_bin_start", "time_bin")
        if spec.time_window is not None and starts is not None:
            lo, hi = spec.time_window
            keep = np.flatnonzero((starts >= lo) & (starts < hi))
            if not len(keep):
                raise BenchmarkDataError(f"{str(path)!r}: no time bins start in [{lo}, {hi}) ms")
            da = da.isel(time_bin=keep)
        da = da.mean("time_bin")
    da = da.transpose("presentation", "neuroid")
    ids = _values(da, "stimulus_id", "presentation")
    if ids is None:
        ids = _values(da, "image_id", "presentation")
    if ids is None:
        raise BenchmarkDataError(f"{str(path)!r} has no 'stimulus_id' coordinate on presentation")
    reps = _values(da, "repetition", "presentation")
    if reps is None:
        raise BenchmarkDataError(
            f"{str(path)!r} has no 'repetition' coordinate; a split-half ceiling needs repeated "
            "presentations"
        )
    ids = [str(s) for s in ids]
    unique = sorted(set(ids))  # Brain-Score aligns and splits in stimulus_id order
    index = {s: i for i, s in enumerate(unique)}
    stratify_values = _values(da, spec.stratify, "presentation")
    stratify = None
    if stratify_values is not None:
        first = {}
        for s, v in zip(ids, stratify_values.astype(str), strict=True):
            first.setdefault(s, v)
        stratify = tuple(first[s] for s in unique)
    stimuli = _load_stimuli(root, spec.stimuli, unique, spec.stimuli.identifier)
    version = _version(spec.version, spec.sha1, path)
    synthetic = _is_synthetic(da)
    return NeuralBenchmark(
        identifier=f"{spec.name}.{region}-pls",
        region=region,
        source=spec.name,
        version=version,
        stimuli=stimuli,
        trials=np.asarray(da.values, dtype=np.float64),
        stimulus_index=np.array([index[s] for s in ids]),
        repetition=reps,
        stratify=stratify,
        synthetic=synthetic,
    )


def _trial_labels(values: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Per-trial object names as strings; a missing one (NaN, empty) is refused."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        missing = np.isnan(values)
    else:
        values = values.astype(str)  # fixed-width text: sorting 10^5 ids is then fast
        missing = np.isin(values, ["", "nan", "NaN", "None"])
    if missing.any():
        raise BenchmarkDataError(
            f"{str(path)!r}: {int(missing.sum())} of {len(values)} trials have no {what} (NaN or "
            f"empty), the first is trial {int(np.flatnonzero(missing)[0])}; drop those trials first"
        )
    return values.astype(str)


def _trial_coord(da, path: Path, names: tuple[str, ...], what: str) -> np.ndarray:
    for name in names:
        values = _values(da, name, "presentation")
        if values is not None:
            return _trial_labels(values, path, f"{name!r} ({what})")
    raise BenchmarkDataError(
        f"{str(path)!r} has no {' or '.join(repr(n) for n in names)} coordinate on presentation "
        f"({what} of each trial); its coordinates: {', '.join(map(str, da.coords))}"
    )


def load_behavior(spec: BrainioBehavior, *, folder: str | Path | None = None) -> BehaviorBenchmark:
    """The i2n benchmark from a Rajalingham2018-layout assembly and its stimulus sets on disk.

    The assembly holds one trial per presentation: the chosen object as its values, the
    image (``stimulus_id``, else ``image_id``), the object shown (``sample_obj``, else
    ``truth``; both must agree where both exist) and the distractor (``dist_obj``). Test
    images are the assembly's, in ``stimulus_id`` order; the readout's images and labels
    are every row of the fitting set's CSV. Objects are those of the trials, sorted.

    Raises:
        BenchmarkFileNotFoundError: a file is missing (names where Brain-Score would keep it).
        BenchmarkDataError: trials on images not in the stimulus set, NaN or empty labels,
            missing coordinates, a choice that was neither option, objects the readout
            has no images of.
    """
    root = brainio_home(folder)
    path = _find(root, spec.sha1, spec.filename, "behavioural assembly")
    da = _open_assembly(path)
    if da.dims != ("presentation",):
        raise BenchmarkDataError(
            f"{str(path)!r}: expected one dimension, presentation (one entry per trial), got "
            f"{' x '.join(da.dims) or 'a scalar'}"
        )
    ids = _values(da, "stimulus_id", "presentation")
    if ids is None:
        ids = _values(da, "image_id", "presentation")
    if ids is None:
        raise BenchmarkDataError(
            f"{str(path)!r} has no 'stimulus_id' or 'image_id' coordinate on presentation; its "
            f"coordinates: {', '.join(map(str, da.coords))}"
        )
    ids = _trial_labels(ids, path, "image id")
    choice = _trial_labels(da.values, path, "choice (the assembly's values)")
    sample = _trial_coord(da, path, ("sample_obj", "truth"), "the object shown")
    truth_coord = _values(da, "truth", "presentation")
    if truth_coord is not None:
        differ = np.flatnonzero(_trial_labels(truth_coord, path, "'truth'") != sample)
        if len(differ):
            t = int(differ[0])
            raise BenchmarkDataError(
                f"{str(path)!r}: trial {t} has sample_obj {str(sample[t])!r} but truth "
                f"{str(truth_coord[t])!r} ({len(differ)} such trials)"
            )
    dist = _trial_coord(da, path, ("dist_obj",), "the distractor")
    bad = np.flatnonzero((choice != sample) & (choice != dist))
    if len(bad):
        t = int(bad[0])
        raise BenchmarkDataError(
            f"{str(path)!r}: trial {t} chose {str(choice[t])!r}, which was neither its sample "
            f"{str(sample[t])!r} nor its distractor {str(dist[t])!r} ({len(bad)} such trials)"
        )
    names = np.unique(np.concatenate([sample, dist, choice]))  # sorted, as Brain-Score's choices
    objects = tuple(str(o) for o in names)
    unique, stimulus = np.unique(ids, return_inverse=True)  # Brain-Score's stimulus_id order
    truth = np.full(len(unique), -1)
    sample_idx = np.searchsorted(names, sample)
    truth[stimulus] = sample_idx
    clash = np.flatnonzero(truth[stimulus] != sample_idx)
    if len(clash):
        t = int(clash[0])
        raise BenchmarkDataError(
            f"{str(path)!r}: image {str(ids[t])!r} is shown as {str(sample[t])!r} in trial {t} "
            f"and as {objects[truth[stimulus[t]]]!r} elsewhere; each image shows one object"
        )
    test = _load_stimuli(root, spec.stimuli, [str(u) for u in unique], spec.stimuli.identifier)
    test = StimulusSet(
        name=test.name,
        stimulus_ids=test.stimulus_ids,
        load=test.load,
        labels=tuple(objects[t] for t in truth),
        content_hash=test.content_hash,
    )
    fit = _load_stimuli(
        root, spec.fitting, None, spec.fitting.identifier, label_column=spec.label_column
    )
    unfitted = sorted(set(objects) - set(fit.labels or ()))
    if unfitted:
        raise BenchmarkDataError(
            f"{str(path)!r}: object {unfitted[0]!r} ({len(unfitted)} in all) has trials but no "
            f"readout image labelled {spec.label_column!r} in {spec.fitting.csv_name!r}"
        )
    return BehaviorBenchmark(
        identifier=spec.benchmark,
        source=spec.benchmark.partition("-")[0],
        version=_version(spec.version, spec.sha1, path),
        fit_stimuli=fit,
        test_stimuli=test,
        objects=objects,
        truth=truth,
        trials=Trials(
            stimulus=stimulus,
            truth=sample_idx,
            distractor=np.searchsorted(names, dist),
            choice=np.searchsorted(names, choice),
        ),
        synthetic=_is_synthetic(da),
    )


def _present(root: Path, sha1: str, filename: str) -> bool:
    return (root / sha1 / filename).is_file() or (root.is_dir() and any(root.glob(f"*/{filename}")))


def behavior_benchmark(folder: str | Path | None = None) -> BehaviorBenchmark:
    """Rajalingham2018 i2n from the first of :data:`BEHAVIOR_ASSEMBLIES` on disk.

    The study's ``Rajalingham2018-i2n`` when its (access-restricted) assembly is there,
    else ``Rajalingham2018public-i2n``; the benchmark id recorded with the score says which.

    Raises:
        BenchmarkFileNotFoundError: neither assembly is there (names both, and where).
    """
    root = brainio_home(folder)
    for spec in BEHAVIOR_ASSEMBLIES:
        if _present(root, spec.sha1, spec.filename):
            if spec is not BEHAVIOR_ASSEMBLIES[0]:
                study = BEHAVIOR_ASSEMBLIES[0]
                logger.info("%s not in %s: scoring %s", study.filename, root, spec.benchmark)
            return load_behavior(spec, folder=root)
    first, *rest = BEHAVIOR_ASSEMBLIES
    expected = root / first.sha1 / first.filename
    others = ", ".join(f"{str(root / s.sha1 / s.filename)!r} ({s.benchmark})" for s in rest)
    raise BenchmarkFileNotFoundError(
        f"behavioural assembly file {first.filename!r} not found in {str(root)!r}; Brain-Score "
        f"2.4.2 keeps it at {str(expected)!r} ({first.benchmark}), or the public one at "
        f"{others} (run its benchmark once online, or copy the file there)",
        path=str(expected),
    )


def brainio_suite(
    folder: str | Path | None = None,
    *,
    regions: tuple[str, ...] = ("V1", "V2", "V4", "IT", "behavior"),
) -> Suite:
    """The study's benchmarks from Brain-Score's files in ``folder`` (or $BRAINIO_HOME).

    Neural regions come from MajajHong2015 (V4, IT) and FreemanZiemba2013 (V1, V2);
    ``behavior`` from Rajalingham2018 (see :func:`behavior_benchmark`).

    Example:
        >>> suite = brainio_suite("~/.brainio", regions=("IT", "behavior"))  # doctest: +SKIP
        >>> suite.benchmarks["behavior"].identifier  # doctest: +SKIP
        'Rajalingham2018-i2n'
    """
    benchmarks = {}
    for region in regions:
        if region == "behavior":
            benchmarks[region] = behavior_benchmark(folder)
            continue
        if region not in REGION_ASSEMBLY:
            raise BenchmarkNotFoundError(
                f"the brainio suite has no {region!r} benchmark; it reads "
                f"{', '.join(REGION_ASSEMBLY)}, behavior (use --benchmarks V1,V2,V4,IT,behavior)"
            )
        benchmarks[region] = load_assembly(
            ASSEMBLIES[REGION_ASSEMBLY[region]], region, folder=folder
        )
    synthetic = bool(benchmarks) and all(b.synthetic for b in benchmarks.values())
    return Suite(name="brainio", benchmarks=benchmarks, synthetic=synthetic)
