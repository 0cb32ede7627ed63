"""The catalog's write API: typed records, validation before writing, idempotent upserts."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from vvshub.catalog import (
    BenchmarkRecord,
    CheckpointRecord,
    EpochMetrics,
    FitRecord,
    LayerScoreRecord,
    ModelRecord,
    ScoreRecord,
    TrainingRunRecord,
    add_checkpoints,
    add_models,
    open_catalog,
    record_from_dict,
    record_scores,
    record_training_run,
    write_records,
)
from vvshub.errors import CatalogError, RecordError

SHA = "a" * 64


def _model(**kw) -> ModelRecord:
    base = dict(
        model_id="resnet18_w0.25_d10_cifar10",
        arch="resnet18_w0.25",
        samples_per_class=10,
        dataset="cifar10",
        n_params=700_000,
        macs=1.2e8,
        flops=2.4e8,
        n_samples=100,
        n_epochs=2,
        n_samples_seen=200,
        total_flops=3 * 2.4e8 * 200,
        acc=0.21,
        width=0.25,
        manifest_sha256=SHA,
    )
    base.update(kw)
    return ModelRecord(**base)


def _bench(region: str = "IT") -> BenchmarkRecord:
    return BenchmarkRecord(
        benchmark=f"vvshub.synthetic.{region}",
        region=region,
        source="synthetic",
        metric="pls",
        version="1",
        ceiling_method="split-half",
        normalisation="ratio_squared",
        suite="synthetic",
    )


def _score(region: str = "IT", score: float = 0.4, **kw) -> ScoreRecord:
    base = dict(
        model_id="resnet18_w0.25_d10_cifar10",
        benchmark=f"vvshub.synthetic.{region}",
        region=region,
        score=score,
        raw_score=0.5,
        ceiling=0.8,
        normalisation="ratio_squared",
        layer="layer3",
        suite="synthetic",
        scorer_version="test-1",
    )
    base.update(kw)
    return ScoreRecord(**base)


@pytest.mark.parametrize(
    ("cls", "kwargs", "field"),
    [
        (ScoreRecord, {"region": "V3"}, "region"),
        (ScoreRecord, {"score": 1.5}, "score"),
        (ScoreRecord, {"score": -0.01}, "score"),
        (ScoreRecord, {"score": math.nan}, "score"),
        (ScoreRecord, {"raw_score": math.inf}, "raw_score"),
        (ScoreRecord, {"ceiling": 0.0}, "ceiling"),
        (ScoreRecord, {"normalisation": "(r/c)^2"}, "normalisation"),
        (ModelRecord, {"n_params": -1}, "n_params"),
        (ModelRecord, {"samples_per_class": 2.5}, "samples_per_class"),
        (ModelRecord, {"macs": math.nan}, "macs"),
        (ModelRecord, {"acc": 7.5}, "acc"),
        (ModelRecord, {"model_id": " "}, "model_id"),
        (ModelRecord, {"manifest_sha256": "xyz"}, "manifest_sha256"),
        (ModelRecord, {"is_random": "yes"}, "is_random"),
    ],
)
def test_bad_fields_are_refused_by_name(cls, kwargs, field) -> None:
    make = _score if cls is ScoreRecord else _model
    with pytest.raises(RecordError) as err:
        make(**kwargs)
    assert err.value.field == field
    assert f"{cls.__name__}.{field}:" in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, CatalogError)


def test_numpy_numbers_are_taken_as_python_numbers() -> None:
    np = pytest.importorskip("numpy")
    rec = _score(score=np.float32(0.25), raw_score=np.float64(0.5))
    assert type(rec.score) is float and rec.score == 0.25
    assert type(_model(n_params=np.int64(5)).n_params) is int


def test_every_record_round_trips_through_dicts() -> None:
    now = dt.datetime(2026, 12, 3, 12, 0, 0)
    records = [
        _model(),
        CheckpointRecord(model_id="m", epoch=3, sha256=SHA, size_bytes=10, revision="ep3"),
        _bench(),
        _score(recorded_at=now),
        LayerScoreRecord(
            model_id="m",
            benchmark="b",
            layer="layer1",
            score=0.1,
            split="select",
            scorer_version="v",
        ),
        TrainingRunRecord(
            run_id="r1",
            model_id="m",
            config={"lr": 0.1, "epochs": 2},
            started_at=now,
            epochs=(EpochMetrics(epoch=1, acc=0.1, loss=2.3), EpochMetrics(epoch=2, acc=0.2)),
        ),
        FitRecord(
            fit_id="f",
            query="SELECT 1",
            data_hash="h",
            form="power",
            options={"a": 1},
            params={"E": 0.5},
            objective=0.1,
            n_rows=3,
            n_bootstrap=0,
        ),
    ]
    for rec in records:
        assert type(rec).from_dict(rec.to_dict()) == rec
        assert record_from_dict({"kind": rec.kind, **rec.to_dict()}) == rec
    with pytest.raises(RecordError, match="unknown field"):
        ScoreRecord.from_dict({**_score().to_dict(), "colour": "red"})
    with pytest.raises(RecordError, match="unknown record kind"):
        record_from_dict({"kind": "banana"})


def test_training_run_refuses_repeated_epochs_and_nan_config() -> None:
    with pytest.raises(RecordError, match="epoch numbers repeat"):
        TrainingRunRecord(
            run_id="r", model_id="m", epochs=(EpochMetrics(epoch=1), EpochMetrics(epoch=1))
        )
    with pytest.raises(RecordError) as err:
        TrainingRunRecord(run_id="r", model_id="m", config={"lr": math.nan})
    assert err.value.field == "config"


def _counts(path: Path) -> dict[str, int]:
    with open_catalog(path) as cat:
        return {
            t: cat.fetchall(f"SELECT count(*) FROM {t}")[0][0]
            for t in ("models", "benchmarks", "score_records", "layer_scores", "checkpoints")
        }


def test_scores_show_up_in_the_view_and_upserts_are_idempotent(vvshub_home: Path) -> None:
    layers = [
        LayerScoreRecord(
            model_id=_model().model_id,
            benchmark=_bench(r).benchmark,
            layer=layer,
            score=s,
            raw_score=s,
            ceiling=0.8,
            scorer_version="test-1",
        )
        for r in ("V1", "IT")
        for layer, s in (("layer1", 0.1), ("layer3", 0.3))
    ]
    batch = dict(layer_scores=layers, benchmarks=[_bench("V1"), _bench("IT")], models=[_model()])
    first = record_scores([_score("V1", 0.2), _score("IT", 0.4)], **batch)
    assert first.spooled is None
    assert first.applied == {"models": 1, "benchmarks": 2, "score_records": 2, "layer_scores": 4}
    path = vvshub_home / "catalog.duckdb"
    before = _counts(path)
    record_scores([_score("V1", 0.2), _score("IT", 0.4)], **batch)
    assert (
        _counts(path)
        == before
        == {
            "models": 1,
            "benchmarks": 2,
            "score_records": 2,
            "layer_scores": 4,
            "checkpoints": 0,
        }
    )
    with open_catalog(path) as cat:
        rows = cat.query(
            "SELECT region, score, raw_score, ceiling, normalisation, suite, layer, total_flops "
            "FROM scores ORDER BY region"
        )
    assert rows["region"].tolist() == ["IT", "V1"]
    assert rows["score"].tolist() == [0.4, 0.2]
    assert set(rows["normalisation"]) == {"ratio_squared"} and set(rows["suite"]) == {"synthetic"}
    assert rows["total_flops"].iloc[0] == pytest.approx(3 * 2.4e8 * 200)


def test_a_score_whose_region_contradicts_its_benchmark_writes_nothing(vvshub_home: Path) -> None:
    record_scores([_score("IT")], benchmarks=[_bench("IT")], models=[_model()])
    path = vvshub_home / "catalog.duckdb"
    before = _counts(path)
    bad = _score("V1", benchmark=_bench("IT").benchmark)
    with pytest.raises(RecordError, match="whose region is 'IT'"):
        record_scores([_score("IT", 0.9), bad], models=[_model(acc=0.9)])
    assert _counts(path) == before
    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT score FROM score_records")[0][0] == 0.4
        assert cat.fetchall("SELECT acc FROM models")[0][0] == 0.21


def test_partial_records_keep_what_is_stored(vvshub_home: Path) -> None:
    add_models([_model()])
    add_models(
        [
            ModelRecord(
                model_id=_model().model_id,
                arch="resnet18_w0.25",
                samples_per_class=10,
                hub_repo="vvshub/resnet18_w0.25_d10_cifar10",
            )
        ]
    )
    add_checkpoints([CheckpointRecord(model_id=_model().model_id, epoch=2, path="/x/ep2")])
    add_checkpoints(
        [CheckpointRecord(model_id=_model().model_id, epoch=2, sha256=SHA, revision="ep2")]
    )
    with open_catalog(vvshub_home / "catalog.duckdb") as cat:
        m = cat.query("SELECT * FROM models").iloc[0]
        c = cat.query("SELECT * FROM checkpoints").iloc[0]
    assert m["hub_repo"] == "vvshub/resnet18_w0.25_d10_cifar10"
    assert m["n_params"] == 700_000 and m["acc"] == 0.21 and m["manifest_sha256"] == SHA
    assert m["added_at"] <= m["updated_at"]
    assert (c["path"], c["sha256"], c["revision"]) == ("/x/ep2", SHA, "ep2")


def test_training_run_replaces_its_epochs(vvshub_home: Path) -> None:
    run = TrainingRunRecord(
        run_id="run-1",
        model_id=_model().model_id,
        config={"lr": 0.1},
        manifest_sha256=SHA,
        device="cpu",
        wall_time_s=12.5,
        epochs=(EpochMetrics(epoch=1, acc=0.1), EpochMetrics(epoch=2, acc=0.2)),
    )
    ckpt = CheckpointRecord(model_id=_model().model_id, epoch=2, sha256=SHA, revision="main")
    result = record_training_run(run, model=_model(), checkpoints=[ckpt])
    assert result.applied["training_epochs"] == 2
    shorter = TrainingRunRecord.from_dict({**run.to_dict(), "epochs": [{"epoch": 1, "acc": 0.15}]})
    record_training_run(shorter)
    with open_catalog(vvshub_home / "catalog.duckdb") as cat:
        epochs = cat.fetchall("SELECT epoch, acc FROM training_epochs ORDER BY epoch")
        config = cat.fetchall("SELECT config::VARCHAR, device FROM training_runs")
    assert epochs == [(1, 0.15)]
    assert config == [('{"lr":0.1}', "cpu")]


def test_non_records_and_read_only_catalogs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="not a catalog record"):
        write_records([{"model_id": "m"}])
    with pytest.raises(CatalogError, match="read-only"):
        write_records([_model()], catalog=tmp_path)  # a folder: a Parquet export
    with pytest.raises(CatalogError, match="read-only"):
        write_records([_model()], catalog="http://127.0.0.1:9/export/")


def test_a_fit_keeps_its_multi_line_sql_but_not_other_control_characters() -> None:
    query = "SELECT x,\n\tscore\r\nFROM t"
    fit = FitRecord(fit_id="f", query=query, data_hash="h", form="power", options={},
                    params={"E": 0.5}, objective=0.1, n_rows=3, n_bootstrap=0)  # fmt: skip
    assert fit.query == query
    with pytest.raises(RecordError, match="control characters"):
        FitRecord.from_dict({**fit.to_dict(), "query": "SELECT 1\x00"})
    with pytest.raises(RecordError, match="control characters"):
        _model(model_id="a\nb")


def test_a_record_without_data_size_or_seed_keeps_the_stored_ones(vvshub_home: Path) -> None:
    add_models([_model(seed=3)])
    # what a scorer knows of a model it pulled: its id and architecture
    add_models([ModelRecord(model_id=_model().model_id, arch="resnet18_w0.25")])
    add_models([ModelRecord(model_id="new_model", arch="alexnet")])
    with open_catalog(vvshub_home / "catalog.duckdb") as cat:
        rows = cat.fetchall("SELECT model_id, samples_per_class, seed FROM models ORDER BY 1")
    assert rows == [("new_model", 0, 0), (_model().model_id, 10, 3)]
