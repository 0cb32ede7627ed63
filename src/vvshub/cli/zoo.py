"""``vvshub zoo ls|info``: the zoo's architectures, with parameter and compute counts."""

from __future__ import annotations

from typing import Annotated

import typer

from vvshub.cli._common import JsonOpt, print_frame, print_json

zoo_app = typer.Typer(
    help="The zoo's architectures: counts, families, timm recipes.", no_args_is_help=True
)

_COLUMNS = ["arch", "family", "n_params", "macs", "flops", "input_size", "timm_name"]


@zoo_app.command("ls")
def ls_cmd(
    family: Annotated[str | None, typer.Option(help="Only this family, e.g. ResNetFlex.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the study's architectures with parameters, MACs, family and input size."""
    from vvshub.zoo import arch_info, list_archs, recipe

    names = list_archs()
    if family is not None:  # filter on the recipe (cheap) before counting
        names = [n for n in names if recipe(n).family.lower() == family.lower()]
    infos = [arch_info(name) for name in names]
    _render([i.to_dict() for i in infos], json_out=json_out, title=f"{len(infos)} architectures")


@zoo_app.command("info")
def info_cmd(
    archs: Annotated[
        list[str],
        typer.Argument(
            help="Architecture names or model ids: resnet18, resnetflexfilters-f-1-16-20-11, "
            "convnextflex-l-2, deitflex-l-0, cornet_s, resnet18_w0.5, resnet18_dp1-2-2-1 …"
        ),
    ],
    image_size: Annotated[
        int | None, typer.Option(help="Input side for the counts (default: the architecture's).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Parameters, MACs and FLOPs of one image (the study's conventions) and the timm recipe."""
    from vvshub.zoo import arch_info

    rows = [arch_info(a, image_size=image_size).to_dict() for a in archs]
    _render(rows, json_out=json_out, title=None)


def _render(rows: list[dict], *, json_out: bool, title: str | None) -> None:
    if json_out:
        print_json(rows)
        return
    import pandas as pd

    print_frame(pd.DataFrame(rows, columns=_COLUMNS), title=title)


def register(app: typer.Typer) -> None:
    """Attach ``vvshub zoo`` to the root app."""
    app.add_typer(zoo_app, name="zoo")
