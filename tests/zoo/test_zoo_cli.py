"""``vvshub zoo ls`` and ``vvshub zoo info``."""

from __future__ import annotations

import pytest


def test_info_prints_the_studys_counts(cli):
    result = cli(
        "zoo",
        "info",
        "resnetflexfilters-f-1-16-20-11",
        "convnextflex-l-2",
        "deitflex-l-0",
        "cornet_s",
        "--json",
    )
    assert result.code == 0, result.err
    rows = result.json()
    assert [r["arch"] for r in rows] == [
        "resnetflexfilters-f-1-16-20-11",
        "convnextflex-l-2",
        "deitflex-l-0",
        "cornet_s",
    ]
    assert [r["n_params"] for r in rows] == [1_995_685, 1_439_112, 7_976_440, 53_416_616]
    assert rows[0]["macs"] == 317_913_601 and rows[0]["flops"] == 2 * 317_913_601
    assert all(r["convention"] == "gokce2025-fvcore-train" for r in rows)
    assert rows[3]["family"] == "CORnet-S"


def test_info_of_a_vvshub_variant_and_a_model_id(cli):
    result = cli("zoo", "info", "resnet18_w0.5", "resnet18_w0.5_d30", "--json")
    assert result.code == 0, result.err
    a, b = result.json()
    assert a == b
    assert a["width"] == 0.5 and a["family"] == "ResNetFlex" and a["timm_name"] == "resnet_flex"


def test_info_table(cli):
    result = cli("zoo", "info", "alexnet")
    assert result.code == 0
    assert "61.1M" in result.out  # the table rounds; --json has the exact count


@pytest.mark.slow
def test_ls_lists_the_grid(cli):
    result = cli("zoo", "ls", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert len(rows) == 60
    assert {"arch", "n_params", "macs", "flops", "family", "input_size"} <= set(rows[0])
    flex = cli("zoo", "ls", "--family", "ViTFlex", "--json").json()
    assert [r["arch"] for r in flex] == [f"deitflex-l-{k}" for k in range(4)]


def test_unknown_architecture_is_one_line_with_suggestions(cli):
    result = cli("zoo", "info", "resnet181")
    assert result.code == 1
    assert "resnet18" in result.err
    assert "Traceback" not in result.err
    assert "vvshub zoo ls" in result.err


def test_impossible_variant_is_one_line(cli):
    result = cli("zoo", "info", "resnet18_dp0-0-0-0")
    assert result.code == 1
    assert "no blocks" in result.err
