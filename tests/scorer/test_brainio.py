"""Brain-Score's file layout read without brainscore: commitment and every bad-input error."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from vvshub.errors import (
    BenchmarkDataError,
    BenchmarkFileNotFoundError,
    LayerNotFoundError,
    StimulusDecodeError,
)

from .conftest import write_brainio


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer", ["blocks.1"]
)  # the middle one: neither first nor last wins by default
def test_brainio_suite_commits_the_generating_layer(tmp_path, tiny_net, layer):
    import vvshub

    write_brainio(tmp_path, model=tiny_net, layer=layer)
    res = vvshub.score(
        tiny_net, suite=f"brainio:{tmp_path}", benchmarks="IT", record=False, projection_dim=64
    )
    it = res.scores["IT"]
    assert it.layer == layer
    assert it.raw > 0.4 and 0.8 < it.ceiling <= 1
    assert res.synthetic  # the file says so in its attrs
    assert it.benchmark == "MajajHong2015.IT-pls"
    assert {c.layer for c in res.layer_scores} == {"blocks.0", "blocks.1", "blocks.2"}


def test_brainio_reads_region_and_counts_from_the_files(tmp_path, tiny_net, monkeypatch):
    from vvshub.scorer._brainio import brainio_suite

    write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=40, n_reps=3, n_neuroids=7)
    monkeypatch.setenv("BRAINIO_HOME", str(tmp_path))
    bench = brainio_suite(regions=("IT",)).benchmarks["IT"]  # DIR from $BRAINIO_HOME
    assert bench.trials.shape == (120, 7)  # the 5 V4 neuroids are not IT
    assert len(bench.stimuli) == 40 and bench.version.startswith("local-")
    assert list(bench.stimuli.stimulus_ids) == sorted(bench.stimuli.stimulus_ids)
    assert brainio_suite(regions=("V4",)).benchmarks["V4"].trials.shape == (120, 5)
    with pytest.raises(BenchmarkFileNotFoundError, match="assy_movshon_FreemanZiemba2013"):
        brainio_suite(regions=("V1",))  # V1 lives in another assembly, absent here
    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=40)
    _rewrite_nc(
        files["nc"], lambda da: da.assign_coords(region=("neuroid", ["IT"] * da.sizes["neuroid"]))
    )
    with pytest.raises(BenchmarkDataError, match="no 'V4' neuroids; its regions: IT"):
        brainio_suite(regions=("V4",))


@pytest.mark.parametrize("drop", ["nc", "csv", "zip"])
def test_missing_file_names_where_brainscore_keeps_it(tmp_path, tiny_net, drop):
    from vvshub.scorer._brainio import ASSEMBLIES, brainio_suite

    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16, drop_file=drop)
    with pytest.raises(BenchmarkFileNotFoundError) as exc:
        brainio_suite(tmp_path, regions=("IT",))
    spec = ASSEMBLIES["MajajHong2015"]
    sha1 = {"nc": spec.sha1, "csv": spec.stimuli.csv_sha1, "zip": spec.stimuli.zip_sha1}[drop]
    assert str(tmp_path / sha1 / files[drop].name) in str(exc.value)
    assert exc.value.path == str(tmp_path / sha1 / files[drop].name)


def _rewrite_nc(path, change):
    import xarray as xr

    da = xr.open_dataarray(path).load()
    da.close()
    da = change(da)
    path.unlink()
    da.to_netcdf(path)


def test_bad_assemblies_are_refused_with_reasons(tmp_path, tiny_net):
    from vvshub.scorer._brainio import brainio_suite

    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16)

    def with_nan(da):
        da.values[3, 2, 0] = np.nan
        return da

    _rewrite_nc(files["nc"], with_nan)
    with pytest.raises(BenchmarkDataError, match="NaN"):
        brainio_suite(tmp_path, regions=("IT",))

    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16)
    _rewrite_nc(
        files["nc"], lambda da: da.isel(presentation=np.flatnonzero(da.repetition.values == 0))
    )
    with pytest.raises(BenchmarkDataError, match="at least 2 repetitions"):
        brainio_suite(tmp_path, regions=("IT",))

    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16)

    def rename_first(da):
        ids = da.stimulus_id.values.astype(object)
        ids[ids == "img000"] = "zzz-not-in-csv"
        return da.assign_coords(stimulus_id=("presentation", ids))

    _rewrite_nc(files["nc"], rename_first)
    with pytest.raises(BenchmarkDataError, match=r"stimulus ids do not match.*'zzz-not-in-csv'"):
        brainio_suite(tmp_path, regions=("IT",))


def test_undecodable_image_names_the_stimulus(tmp_path, tiny_net):
    import vvshub

    files = write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16)
    with zipfile.ZipFile(files["zip"]) as zf:
        blobs = {n: zf.read(n) for n in zf.namelist()}
    blobs["img005.png"] = b"this is not a png"
    with zipfile.ZipFile(files["zip"], "w") as zf:
        for n, b in blobs.items():
            zf.writestr(n, b)
    with pytest.raises(StimulusDecodeError, match="'img005'") as exc:
        vvshub.score(tiny_net, suite=f"brainio:{tmp_path}", benchmarks="IT", record=False)
    assert exc.value.stimulus_id == "img005"


def test_unknown_layer_lists_the_valid_ones(tmp_path, tiny_net):
    import vvshub

    write_brainio(tmp_path, model=tiny_net, layer="blocks.1", n_stimuli=16)
    with pytest.raises(LayerNotFoundError, match=r"blocks\.0, blocks\.1, blocks\.2") as exc:
        vvshub.score(
            tiny_net,
            suite=f"brainio:{tmp_path}",
            benchmarks="IT",
            layers=["blocks.9"],
            record=False,
        )
    assert exc.value.valid == ["blocks.0", "blocks.1", "blocks.2"]
