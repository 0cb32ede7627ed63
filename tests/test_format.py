"""The one number formatter, and the renderers that use it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vvshub._format import format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (11_689_512, "11.69M"),  # parameter counts
        (1_826_516_992, "1.827G"),  # MACs
        (1.404e18, "1.404e18"),  # compute, from 1e12
        (-3e15, "-3e15"),
        (999_999, "999,999"),  # whole numbers below a million
        (1000.0, "1,000"),
        (12_345.67, "12,345.7"),
        (0.48213, "0.4821"),
        (0.5, "0.5"),
        (-0.25, "-0.25"),
        (0, "0"),
        (2.5e-4, "2.5e-4"),  # below 1e-3: scientific
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        (True, "True"),
        (np.bool_(False), "False"),
        (np.int64(61_100_840), "61.1M"),
        (np.float32(0.25), "0.25"),
        ("resnet18", "resnet18"),
        ("12", "12"),  # text that looks like a number stays text
    ],
)
def test_format_number(value, text) -> None:
    assert format_number(value) == text


def test_options() -> None:
    assert format_number(None, missing="—") == "—"
    assert format_number(0.123456, digits=2) == "0.12"
    assert format_number(1.23456e18, digits=2) == "1.2e18"
    assert [format_number(v, compact=True) for v in (1e13, 1e5, 5e4, 1.0, 123.0, 2.5)] == [
        "1e13",
        "1e5",
        "5e4",
        "1",
        "123",
        "2.5",
    ]


def test_tables_and_fields_use_it(capsys) -> None:
    from vvshub.cli._common import print_fields, print_frame

    print_frame(pd.DataFrame({"n_params": [11_689_512], "total_flops": [1.404e18]}))
    print_fields({"macs": 1_826_516_992, "acc": None})
    out = capsys.readouterr().out
    assert "11.69M" in out and "1.404e18" in out
    assert "macs  1.827G" in out and "acc   —" in out
