"""Brain-Score's own data files, read directly (no brainscore import, no network).

Brain-Score 2.4.2 keeps each downloaded file at ``$BRAINIO_HOME/<sha1>/<filename>``
(``BRAINIO_HOME`` defaults to ``~/.brainio``): assemblies as
``assy_<identifier with dots as underscores>.nc`` (an xarray NetCDF with dimensions
presentation x neuroid [x time_bin] and their coordinates), stimulus sets as
``stimulus_<identifier>.csv`` (``stimulus_id``, ``filename`` and metadata columns) plus
``stimulus_<identifier>.zip`` (the images). A researcher who ran Brain-Score once has
these files; vvshub scores on them offline.

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
from vvshub.scorer._data import NeuralBenchmark, StimulusSet
from vvshub.scorer._synthetic import Suite

__all__ = ["ASSEMBLIES", "BrainioAssembly", "BrainioStimuli", "brainio_home", "brainio_suite"]

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


def _load_stimuli(root: Path, spec: BrainioStimuli, needed: list[str], name: str) -> StimulusSet:
    import pandas as pd

    csv_path = _find(root, spec.csv_sha1, spec.csv_name, "stimulus-set CSV")
    zip_path = _find(root, spec.zip_sha1, spec.zip_name, "stimulus-set zip")
    table = pd.read_csv(csv_path, dtype={"stimulus_id": str})
    for col in ("stimulus_id", "filename"):
        if col not in table.columns:
            raise BenchmarkDataError(
                f"{str(csv_path)!r} has no {col!r} column; columns: {', '.join(table.columns)}"
            )
    rows = dict(zip(table["stimulus_id"].astype(str), table["filename"].astype(str), strict=True))
    unknown = [s for s in needed if s not in rows]
    if unknown:
        raise BenchmarkDataError(
            f"stimulus ids do not match: {len(unknown)} of the assembly's {len(needed)} stimuli "
            f"(e.g. {unknown[0]!r}) are not in {str(csv_path)!r}"
        )
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
        name=name, stimulus_ids=tuple(needed), load=load, content_hash=blobs_hash.hexdigest()
    )


def load_assembly(
    spec: BrainioAssembly, region: str, *, folder: str | Path | None = None
) -> NeuralBenchmark:
    """One region's benchmark from a brainio assembly on disk.

    Raises:
        BenchmarkFileNotFoundError: a file is missing (names where Brain-Score would keep it).
        BenchmarkDataError: ids that don't match the stimulus set, NaN responses, missing
            coordinates, too few repetitions, a region the assembly does not have.
    """
    import xarray as xr

    root = brainio_home(folder)
    path = _find(root, spec.sha1, spec.filename, "assembly")
    try:
        da = xr.open_dataarray(path)
    except (OSError, ValueError) as exc:
        raise BenchmarkDataError(
            f"{str(path)!r} is not a readable NetCDF assembly ({exc})"
        ) from None
    with da:
        da = da.load()
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
    sha1 = _file_sha1(path)
    version = spec.version if sha1 == spec.sha1 else f"local-{sha1[:12]}"
    if version != spec.version:
        logger.warning("%s: sha1 %s is not Brain-Score's published %s", path, sha1, spec.sha1)
    synthetic = str(da.attrs.get("synthetic", "")).lower() in ("1", "true", "yes")
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


def brainio_suite(
    folder: str | Path | None = None, *, regions: tuple[str, ...] = ("V1", "V2", "V4", "IT")
) -> Suite:
    """The study's neural benchmarks from Brain-Score's files in ``folder`` (or $BRAINIO_HOME).

    Behaviour (Rajalingham2018) is not read from brainio files yet: asking for it raises
    :class:`~vvshub.errors.BenchmarkNotFoundError`.
    """
    benchmarks = {}
    for region in regions:
        if region not in REGION_ASSEMBLY:
            raise BenchmarkNotFoundError(
                f"the brainio suite has no {region!r} benchmark yet; it reads "
                f"{', '.join(REGION_ASSEMBLY)} (use --benchmarks V1,V2,V4,IT)"
            )
        benchmarks[region] = load_assembly(
            ASSEMBLIES[REGION_ASSEMBLY[region]], region, folder=folder
        )
    synthetic = bool(benchmarks) and all(b.synthetic for b in benchmarks.values())
    return Suite(name="brainio", benchmarks=benchmarks, synthetic=synthetic)
