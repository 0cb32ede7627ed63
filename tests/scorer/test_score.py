"""vvshub.score and the CLI end to end on a small synthetic suite: results, catalog, cache."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest

from vvshub.errors import BenchmarkNotFoundError, UnknownArchitectureError, WeightsUnavailableError


@pytest.fixture
def small_suite(cifar_zip, monkeypatch):
    """The synthetic suite at a few images per class (the default builder is patched too)."""
    from vvshub.scorer import _api, synthetic_suite

    small = functools.partial(
        synthetic_suite,
        n_per_class=10,
        n_neuroids=12,
        n_repetitions=4,
        n_fit_per_class=6,
        n_test_per_class=3,
        trials_per_pair=6,
    )
    monkeypatch.setattr(_api, "synthetic_suite", small)
    return small


def test_synthetic_suite_is_labelled_and_has_known_reliability(small_suite):
    suite = small_suite(regions=("IT", "behavior"))
    it = suite.benchmarks["IT"]
    assert suite.synthetic and it.synthetic and "synthetic" in it.identifier
    assert it.trials.shape == (100 * 4, 12) and set(it.stratify) == {
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
    }  # fmt: skip
    beh = suite.benchmarks["behavior"]
    assert len(beh.trials) == 30 * 9 * 6 and len(beh.fit_stimuli) == 60
    # Same seed, same data; another seed, other data.
    assert (small_suite(regions=("IT",)).benchmarks["IT"].trials == it.trials).all()
    assert not (small_suite(seed=1, regions=("IT",)).benchmarks["IT"].trials == it.trials).all()


@pytest.mark.slow
def test_heldout_selection_and_normalisation_and_cache(small_suite, tiny_net, monkeypatch):
    import vvshub
    from vvshub.scorer import _api, cache_entries

    suite = small_suite(n_per_class=20, regions=("IT",))
    first = vvshub.score(
        tiny_net, suite=suite, benchmarks="IT", record=False, select_on="heldout",
        normalisation="squared_over_ceiling", projection_dim=64,
    )  # fmt: skip
    it = first.scores["IT"]
    assert {c.split for c in first.layer_scores} == {"select", "report"}
    assert it.n_stimuli == 100  # reported on the other half of the 200 images
    assert it.score == pytest.approx(max(0.0, it.raw) ** 2 / it.ceiling)
    assert len(cache_entries()) == 3  # one array per candidate layer

    def no_extraction(*args, **kwargs):
        raise AssertionError("activations should come from the cache")

    monkeypatch.setattr(_api, "extract", no_extraction)
    again = vvshub.score(
        tiny_net, suite=suite, benchmarks="IT", record=False, select_on="heldout",
        normalisation="squared_over_ceiling", projection_dim=64,
    )  # fmt: skip
    assert again.scores["IT"] == it
    # Other weights: other cache keys, so extraction runs (and hits the patched function).
    with pytest.raises(AssertionError, match="from the cache"):
        import torch

        with torch.no_grad():
            tiny_net.fc.weight.add_(1.0)
            tiny_net.blocks[0].conv.weight.mul_(2.0)
        vvshub.score(tiny_net, suite=suite, benchmarks="IT", record=False)


def test_cache_cli_lists_and_collects(cli, vvshub_home):
    import numpy as np

    from vvshub.scorer import _cache

    _cache.put(
        "ab" * 32,
        np.zeros((4, 3), np.float32),
        {"model": "m", "layer": "l", "stimuli": "s", "features": "full"},
    )
    out = cli("cache", "ls", "--json")
    assert out.code == 0 and out.json()[0]["layer"] == "l" and out.json()[0]["shape"] == [4, 3]
    assert cli("cache", "gc").code != 0  # says what to remove
    out = cli("cache", "gc", "--all", "--json")
    assert out.json()["removed"] == 1 and cli("cache", "ls", "--json").json() == []


def test_list_layers_and_bad_names(cli):
    out = cli("score", "timm/test_resnet", "--list-layers", "--json")
    assert out.code == 0
    assert out.json()["layers"] == ["layer1.0", "layer2.0", "layer3.0", "layer4.0", "pre_logits"]
    out = cli("score", "timm/resnet18x", "--weights", "random")
    assert out.code == 1 and "not a timm architecture" in out.err and "resnet18" in out.err
    out = cli("score", "timm/test_resnet", "--weights", "random", "--benchmarks", "V3")
    assert out.code == 1 and "unknown benchmark 'V3'" in out.err
    out = cli("score", "timm/test_resnet", "--normalisation", "cubed")
    assert out.code != 0 and "cubed" in out.err


def test_resolve_errors_are_clear():
    import importlib.util

    from vvshub.scorer._api import _parse_regions
    from vvshub.scorer._models import resolve_model

    with pytest.raises(UnknownArchitectureError):
        resolve_model("timm/not_a_model_at_all", weights="random")
    with pytest.raises(BenchmarkNotFoundError, match="V1, V2, V4, IT, behavior"):
        _parse_regions("V1,MT")
    assert _parse_regions("v1,it,behaviour") == ["V1", "IT", "behavior"]
    if importlib.util.find_spec("vvshub.hub") is None:
        with pytest.raises(WeightsUnavailableError, match="hub"):
            resolve_model("resnet18_w0.5_d30", weights="pretrained")
    r = resolve_model("resnet18_w0.5", weights="random", seed=3)
    assert r.is_random and r.model_id == "resnet18_w0.5_random_seed-3"


def test_pretrained_weights_offline_fail_clearly(tmp_path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(tmp_path),
        "VVSHUB_HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-c", "from vvshub.cli import main; main()", "score", "timm/test_resnet", "--weights", "pretrained", "--no-record"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "pretrained weights for 'timm/test_resnet' cannot be downloaded here" in proc.stderr
    assert "--weights random" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_score_json_contract(cli, small_suite, vvshub_home):
    out = cli("score", "timm/test_resnet", "--weights", "random", "--suite", "synthetic", "--json")
    assert out.code == 0, out.err
    data = out.json()
    assert data["model"] == "test_resnet_timm_random_seed-0" and data["suite"] == "synthetic"
    assert data["synthetic"] is True and "not the brain" in data["note"]
    assert set(data["scores"]) == {"V1", "V2", "V4", "IT", "behavior"}
    for entry in data["scores"].values():
        assert {"score", "raw", "ceiling", "layer"} <= set(entry)
        if entry["region"] != "behavior":  # the study's normalisation by default
            assert entry["score"] == pytest.approx(
                min(1.0, max(0.0, entry["raw"]) ** 2 / entry["ceiling"] ** 2)
            )
    assert data["scores"]["behavior"]["layer"] == "pre_logits"
    assert len(data["layer_scores"]) == 4 * 4  # test_resnet's four blocks x four regions
    from vvshub.catalog import open_catalog

    with open_catalog(vvshub_home / "catalog.duckdb", read_only=True) as cat:
        rows = cat.query(
            "SELECT region, score, raw_score, ceiling, layer, source, n_params, is_random FROM scores "
            "WHERE model_id = 'test_resnet_timm_random_seed-0' ORDER BY region"
        )
        cells = cat.query(
            "SELECT count(*) AS n FROM layer_scores WHERE model_id = 'test_resnet_timm_random_seed-0'"
        )
    assert sorted(rows["region"]) == ["Behavioral", "IT", "V1", "V2", "V4"]
    assert set(rows["source"]) == {"vvshub-synthetic"} and rows["is_random"].all()
    assert rows["ceiling"].notna().all() and rows["raw_score"].notna().all()
    assert int(rows["n_params"].iloc[0]) == 469688
    assert int(cells["n"].iloc[0]) == 16
    sql = cli(
        "sql",
        "SELECT region, layer FROM scores WHERE model_id = 'test_resnet_timm_random_seed-0'",
        "--format",
        "json",
    )
    assert len(json.loads(sql.out)) == 5


@pytest.mark.slow
def test_score_batch_on_local_ray_records_everything_and_resumes(
    small_suite, tmp_path, vvshub_home
):
    from vvshub.catalog import open_catalog
    from vvshub.scorer._batch import batch_models, score_batch

    manifest = tmp_path / "models.txt"
    manifest.write_text("# two random timm models\ntimm/test_resnet\ntimm/test_convnext\n\n")
    models = batch_models(manifest=manifest)
    assert models == ["timm/test_resnet", "timm/test_convnext"]
    out = score_batch(models, benchmarks="IT", weights="random", workers=2)
    assert [m["status"] for m in out["models"]] == ["ok", "ok"], out
    with open_catalog(vvshub_home / "catalog.duckdb", read_only=True) as cat:
        rows = cat.query("SELECT model_id FROM scores WHERE region = 'IT' ORDER BY model_id")
    assert list(rows["model_id"]) == [
        "test_convnext_timm_random_seed-0",
        "test_resnet_timm_random_seed-0",
    ]
    again = score_batch(models, benchmarks="IT", weights="random", workers=2)
    assert again["skipped"] == 2 and all(m.get("resumed") for m in again["models"])


@pytest.mark.parametrize(
    ("option", "value"),
    [("normalisation", "squared"), ("select_on", "half"), ("regression", "lasso")],
)
def test_unknown_scoring_options_are_refused_before_any_work(tiny_net, option, value):
    import vvshub
    from vvshub.errors import ScoreOptionError

    with pytest.raises(ScoreOptionError, match=repr(value)):
        vvshub.score(tiny_net, suite="synthetic", benchmarks="IT", record=False, **{option: value})


def test_ridge_regression_scores_under_its_own_benchmark_id(small_suite, tiny_net, vvshub_home):
    import vvshub
    from vvshub.catalog import open_catalog

    suite = small_suite(regions=("IT",))
    ridge = vvshub.score(
        tiny_net, suite=suite, benchmarks="IT", regression="ridge", projection_dim=32,
        model_id="tiny-net", catalog=vvshub_home / "catalog.duckdb",
    )  # fmt: skip
    pls = vvshub.score(
        tiny_net, suite=suite, benchmarks="IT", projection_dim=32, model_id="tiny-net",
        catalog=vvshub_home / "catalog.duckdb",
    )  # fmt: skip
    assert ridge.scores["IT"].benchmark.endswith("-ridge")
    assert not pls.scores["IT"].benchmark.endswith("-ridge")
    assert ridge.scorer_version.endswith("+ridge")
    assert ridge.scores["IT"].raw != pls.scores["IT"].raw  # another mapping, another number
    with open_catalog(vvshub_home / "catalog.duckdb", read_only=True) as cat:
        rows = cat.query(
            "SELECT b.benchmark, b.metric FROM benchmarks b JOIN score_records s USING "
            "(benchmark) WHERE s.model_id = 'tiny-net' ORDER BY 1"
        )
    assert dict(zip(rows["benchmark"], rows["metric"], strict=True)) == {
        pls.scores["IT"].benchmark: "pls",
        ridge.scores["IT"].benchmark: "ridge",
    }


def test_synthetic_caption_names_where_the_simulated_responses_come_from():
    from vvshub.cli.score import synthetic_caption

    assert "CIFAR-10" in synthetic_caption("synthetic")
    brainio = synthetic_caption("brainio:/data/brainio")
    assert "CIFAR-10" not in brainio and "benchmark files" in brainio
    assert all("not the brain" in synthetic_caption(s) for s in ("synthetic", "brainio"))
