"""The zoo's architectures: build any model of the study, or a new width/depth variant, from its id.

Every architecture is a timm architecture plus ``model_args`` (see :func:`recipe`), so
every zoo checkpoint loads in plain timm. The few that timm lacks (AlexNet, CORnet-S,
a one-block ResNet) are registered in timm's registry as soon as timm is imported.
Counts follow the study's conventions (:data:`CONVENTION`).

Importing this package does not import torch or timm; the verbs do.

Example:
    >>> from vvshub import zoo
    >>> model = zoo.build("resnet18_w0.5", num_classes=10)
    >>> zoo.count("resnetflexfilters-f-1-16-20-11").n_params
    1995685
"""

from __future__ import annotations

from vvshub.zoo._api import (
    STUDY_DEPTHS,
    ArchInfo,
    arch_info,
    build,
    count,
    list_archs,
    recipe,
    variant_name,
)
from vvshub.zoo._count import CONVENTION, Count, train_flops
from vvshub.zoo._hook import install_timm_hook, register_timm_models
from vvshub.zoo._layers import from_study_state_dict, from_timm_layer, to_timm_layer
from vvshub.zoo._registry import DEFAULT_INPUT_SIZE, Recipe, study_widths

__all__ = [
    "CONVENTION",
    "DEFAULT_INPUT_SIZE",
    "STUDY_DEPTHS",
    "ArchInfo",
    "Count",
    "Recipe",
    "arch_info",
    "build",
    "count",
    "from_study_state_dict",
    "from_timm_layer",
    "install_timm_hook",
    "list_archs",
    "recipe",
    "register_timm_models",
    "study_widths",
    "to_timm_layer",
    "train_flops",
    "variant_name",
]

# The issue asks that zoo models load in timm by name once vvshub is imported: this
# registers them the moment timm is imported (no torch import here).
install_timm_hook()
