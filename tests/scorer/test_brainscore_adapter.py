"""The ``brainscore`` extra: Brain-Score's own benchmark objects scoring a vvshub model.

brainscore-vision is not installed in the main environment (it is an optional extra), so
the adapter runs in the oracle environment that ``make oracle-adapter`` extends with torch
and timm (``VVSHUB_ORACLE_PYTHON``); there a script builds a Brain-Score NeuralBenchmark
and Rajalingham2018's i2n benchmark from local data, scores a tiny timm model through the
adapter, and reports what came back. The main environment checks the "not installed"
path, the layer map and the catalog side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vvshub.errors import BenchmarkNotFoundError, BrainScoreNotInstalledError, LayerNotFoundError

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oracle") / "run_adapter.py"


@pytest.fixture
def no_brainscore(monkeypatch: pytest.MonkeyPatch) -> None:
    """brainscore_vision unimportable (as in the main environment), BS_INSTALL_DEPENDENCIES unset."""
    monkeypatch.setitem(sys.modules, "brainscore_vision", None)
    monkeypatch.delenv("BS_INSTALL_DEPENDENCIES", raising=False)


def test_without_the_extra_the_error_names_the_install(no_brainscore):
    from vvshub.scorer import brain_model, score_on_brainscore

    with pytest.raises(BrainScoreNotInstalledError) as info:
        score_on_brainscore("timm/test_resnet", "MajajHong2015public.IT-pls")
    message = str(info.value)
    assert "pip install 'vvshub[brainscore]'" in message
    assert "BS_INSTALL_DEPENDENCIES=no" in message
    assert isinstance(info.value, ImportError) and "\n" not in message
    # set before the import was tried, so brainscore's plugins never pip-install torch
    assert os.environ["BS_INSTALL_DEPENDENCIES"] == "no"
    with pytest.raises(BrainScoreNotInstalledError):
        brain_model("timm/test_resnet", weights="random", layers="IT=layer3.0")


def test_cli_brainscore_suite_without_the_extra(cli, no_brainscore):
    out = cli("score", "timm/test_resnet", "--weights", "random", "--suite", "brainscore")
    assert out.code == 1
    assert "vvshub[brainscore]" in out.err and "Traceback" not in out.err
    out = cli(
        "score", "timm/test_resnet", "--suite", "brainscore", "--normalisation", "ratio"
    )  # Brain-Score normalises its own way
    assert out.code != 0 and "normalisation" in out.err


def test_brainscore_is_not_a_data_suite():
    from vvshub.scorer import load_suite

    with pytest.raises(BenchmarkNotFoundError, match="score_brainscore_suite"):
        load_suite("brainscore:MajajHong2015public.IT-pls")


def test_parse_layer_map():
    from vvshub.scorer._brainscore import parse_layer_map

    assert parse_layer_map("it=layer3.1, V4=layer2.1") == {"IT": "layer3.1", "V4": "layer2.1"}
    assert parse_layer_map("IT=layer3.0+layer3.1") == {"IT": ["layer3.0", "layer3.1"]}
    assert parse_layer_map({"v1": "layer1.0"}) == {"V1": "layer1.0"}
    assert parse_layer_map(None) == {}
    with pytest.raises(LayerNotFoundError, match="REGION=LAYER"):
        parse_layer_map("layer3.1")
    with pytest.raises(LayerNotFoundError, match="'MT'"):
        parse_layer_map("MT=layer3.1")


def test_committed_layers_come_from_real_data_scores(tmp_path):
    from vvshub.catalog import BenchmarkRecord, ModelRecord, ScoreRecord, record_scores
    from vvshub.scorer import committed_layers

    catalog = tmp_path / "c.duckdb"
    assert committed_layers("m", catalog=catalog) == {}  # no catalog yet: nothing committed

    def bench(name, region, source):
        return BenchmarkRecord(
            benchmark=name,
            region=region,
            source=source,
            metric="pls",
            version="1",
            ceiling_method="split_half_spearman_brown",
            normalisation="ratio_squared",
        )

    def score(name, region, layer, source):
        return ScoreRecord(
            model_id="m",
            benchmark=name,
            region=region,
            score=0.5,
            layer=layer,
            scorer_version="vvshub-1",
            source=source,
        )

    record_scores(
        [
            score("MajajHong2015.IT-pls", "IT", "layer3.1", "vvshub"),
            score("synthetic.V4-pls", "V4", "layer2.0", "vvshub-synthetic"),  # not the brain
            score("synthetic.behavior-i2n", "Behavioral", "pre_logits", "vvshub-synthetic"),
        ],
        benchmarks=[
            bench("MajajHong2015.IT-pls", "IT", "MajajHong2015"),
            bench("synthetic.V4-pls", "V4", "synthetic"),
            bench("synthetic.behavior-i2n", "Behavioral", "synthetic"),
        ],
        models=[ModelRecord(model_id="m", arch="resnet18")],
        catalog=catalog,
    )
    assert committed_layers("m", catalog=catalog) == {"IT": "layer3.1"}
    assert committed_layers("other", catalog=catalog) == {}


def test_normalisation_is_recognised_from_the_score():
    import numpy as np

    from vvshub.scorer._brainscore import _normalisation

    class Fake:  # a Score: a value, attrs, and per-split raw values over a "split" dim
        def __init__(self, value, splits=None):
            self.values = np.asarray(value)
            self.attrs = {} if splits is None else {"raw": FakeSplits(splits)}

    class FakeSplits:
        dims = ("split",)

        def __init__(self, v):
            self.values = np.asarray(v)
            self.ndim = 1

    assert _normalisation(0.5**2 / 0.8, Fake(0.5), Fake(0.8)) == "squared_over_ceiling"
    assert _normalisation((0.5 / 0.8) ** 2, Fake(0.5), Fake(0.8)) == "ratio_squared"
    raws, ceilings = np.array([0.2, 0.3]), np.array([0.25, 0.36])
    per_split = float(np.mean(raws / np.sqrt(ceilings)))  # i2n: ceiled per split, averaged
    got = _normalisation(per_split, Fake(raws.mean(), raws), Fake(ceilings.mean(), ceilings))
    assert got == "ratio_sqrt_ceiling"
    assert _normalisation(0.123, Fake(0.5), Fake(0.8)) is None
    assert _normalisation(0.3, None, Fake(0.8)) is None


def test_suite_result_keys_by_region_unless_repeated():
    from vvshub.scorer import BrainScoreResult, BrainScoreSuiteResult

    def res(bench, region):
        return BrainScoreResult(
            model="m", benchmark=bench, region=region, score=0.5, raw=0.6, ceiling=0.8,
            error=None, layer="l", normalisation=None, benchmark_version="1",
            scorer_version="v", seconds=0.0,
        )  # fmt: skip

    one = BrainScoreSuiteResult(
        "m", "brainscore", (res("a.IT-pls", "IT"), res("b-i2n", "behavior"))
    )
    assert list(one.to_dict()["scores"]) == ["IT", "behavior"]
    assert (
        one.to_dict()["scores"]["IT"]["raw"] == 0.6
        and "brainscore" not in one.to_dict()["scores"]["IT"]
    )
    two = BrainScoreSuiteResult(
        "m", "brainscore:a,b", (res("a.IT-pls", "IT"), res("b.IT-pls", "IT"))
    )
    assert list(two.to_dict()["scores"]) == ["a.IT-pls", "b.IT-pls"]


# --- in the oracle environment (brainscore-vision + torch) ---------------------------------


def _adapter_python() -> Path:
    env = os.environ.get("VVSHUB_ORACLE_PYTHON")
    path = Path(env) if env else REPO / ".oracle-venv" / "bin" / "python"
    under_make = bool(os.environ.get("MAKELEVEL"))
    if not path.exists():
        if under_make:
            pytest.fail(f"oracle python {path} missing although make should have built it")
        pytest.skip(f"brainscore oracle environment not found at {path}; run `make oracle-adapter`")
    probe = subprocess.run(
        [str(path), "-c", "import torch, timm, duckdb, brainscore_vision"],
        capture_output=True,
        text=True,
        env={**os.environ, "BS_INSTALL_DEPENDENCIES": "no", "PYTHONPATH": ""},
        timeout=300,
    )
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["?"])[-1]
        if under_make:
            pytest.fail(f"{path} lacks the adapter's packages ({reason}); `make oracle-adapter`")
        pytest.skip(f"{path} lacks torch/timm/duckdb ({reason}); run `make oracle-adapter`")
    return path


@pytest.fixture(scope="module")
def adapter_run(tmp_path_factory) -> tuple[dict, Path]:
    python = _adapter_python()
    work = tmp_path_factory.mktemp("brainscore_adapter")
    env = {
        **os.environ,
        "BS_INSTALL_DEPENDENCIES": "no",
        "PYTHONPATH": str(REPO / "src"),
        "HOME": str(work),  # anything Brain-Score caches under ~ stays in the test folder
    }
    proc = subprocess.run(
        [str(python), str(SCRIPT), str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), work


@pytest.mark.slow
def test_neural_benchmark_scores_the_generating_layer_as_vvshub_does(adapter_run):
    out, _ = adapter_run
    good, other = out["neural"]["generating"], out["neural"]["other"]
    # Brain-Score's PLS metric and ceiling on the adapter's activations equal vvshub's own
    # scorer on the same data, splits and seeds
    assert good["raw"] == pytest.approx(out["vvshub"]["raw"], abs=1e-3)
    assert good["ceiling"] == pytest.approx(out["vvshub"]["ceiling"], abs=1e-3)
    # Brain-Score 2.4.2's normalisation, recognised from the Score's attrs
    assert good["normalisation"] == "squared_over_ceiling"
    assert good["score"] == pytest.approx(good["raw"] ** 2 / good["ceiling"], rel=1e-6)
    assert 0.2 < good["score"] <= 1.0
    # the layer that generated the responses beats another layer of the same model
    assert good["layer"] == "layer3.0" and other["layer"] == "layer1.0"
    assert good["score"] > other["score"] + 0.05
    assert good["region"] == "IT" and good["source"] == "brainscore-vision"


@pytest.mark.slow
def test_recordings_are_shaped_as_brainscore_expects(adapter_run):
    seen = adapter_run[0]["assembly"]
    assert seen["dims"] == ["presentation", "neuroid", "time_bin"]
    assert seen["shape"][0] == 96 and seen["shape"][2] == 1
    assert {"stimulus_id", "object_name"} <= set(seen["presentation_coords"])
    assert seen["region"] == ["IT"] and seen["time_bin_start"] == [70]


@pytest.mark.slow
def test_i2n_benchmark_through_the_readout_matches_vvshub(adapter_run):
    out, _ = adapter_run
    beh, ours = out["behavior"], out["vvshub_i2n"]
    assert beh["region"] == "behavior" and beh["layer"] == "pre_logits"
    assert beh["raw"] == pytest.approx(ours["raw"], abs=1e-3)
    assert beh["ceiling"] == pytest.approx(ours["ceiling"], abs=1e-3)
    assert beh["score"] == pytest.approx(ours["ceiled"], abs=1e-3)
    assert beh["normalisation"] == "ratio_sqrt_ceiling"
    assert beh["score"] > 0.1  # the simulated primates choose like the model's readout


@pytest.mark.slow
def test_adapter_errors_and_interface(adapter_run):
    out, _ = adapter_run
    assert "NoSuchBenchmark.IT-pls" in out["unknown_benchmark_error"]
    assert "MajajHong2015public.IT-pls" in out["unknown_benchmark_error"]
    assert "'label'" in out["label_task_error"] and "probabilities" in out["label_task_error"]
    assert "MajajHong2015public.IT-pls" in out["load_error"] and "network" in out["load_error"]
    assert "V4" in out["missing_layer_error"] and "--layers V4=LAYER" in out["missing_layer_error"]
    assert out["is_brain_model"] is True
    assert out["bs_install_dependencies"] == "no"


@pytest.mark.slow
def test_scores_are_in_the_catalog_as_brainscore_vision(adapter_run):
    from vvshub.catalog import open_catalog

    out, work = adapter_run
    with open_catalog(work / "catalog.duckdb") as cat:
        rows = cat.query(
            "SELECT benchmark, region, score, raw_score, ceiling, layer, normalisation, suite, "
            "source, scorer_version FROM scores ORDER BY benchmark"
        ).to_dict("records")
    assert [r["benchmark"] for r in rows] == ["vvshub-test-i2n", "vvshub-test.IT-pls"]
    i2n, it = rows
    good = out["neural"]["generating"]
    assert it["region"] == "IT" and it["layer"] == "layer3.0"
    assert it["score"] == pytest.approx(good["score"]) and it["raw_score"] == pytest.approx(
        good["raw"]
    )
    assert it["ceiling"] == pytest.approx(good["ceiling"])
    assert it["normalisation"] == "squared_over_ceiling"
    assert i2n["region"] == "Behavioral" and i2n["normalisation"] == "ratio_sqrt_ceiling"
    for r in rows:
        assert r["source"] == "brainscore-vision" and r["suite"] == "brainscore"
        assert r["scorer_version"].startswith("brainscore-vision-2.4.2+vvshub-adapter-")
