"""The trainer: grow the zoo the controlled way.

The study's recipes as frozen configs, exact seeded per-class subsets saved as
manifests, per-epoch safetensors checkpoints that resume bitwise, DDP through torchrun,
and sweeps over a grid on Ray. Finished runs are recorded in the catalog and pushed to
the hub.

Importing this package does not import torch; the verbs do.

Example:
    >>> from vvshub.trainer import make_config, train
    >>> cfg = make_config("resnet18", width=0.25, dataset="cifar10_jpg.zip",
    ...                   samples_per_class=10, image_size=32, overrides={"epochs": 1})
    >>> cfg.model_id
    'resnet18_w0.25_d10_cifar10'
    >>> result = train(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

from vvshub.trainer._config import TrainConfig, make_config
from vvshub.trainer._data import DataSource, dataset_name, open_source
from vvshub.trainer._recipes import RECIPES, Recipe, recipe_for
from vvshub.trainer._run import TrainResult, run_dir_for, runs_root, train
from vvshub.trainer._subset import Manifest, class_order, draw_subset, manifest_sha256
from vvshub.trainer._sweep import SweepRun, expand_grid, load_grid, run_sweep

__all__ = [
    "RECIPES",
    "DataSource",
    "Manifest",
    "Recipe",
    "SweepRun",
    "TrainConfig",
    "TrainResult",
    "class_order",
    "dataset_name",
    "draw_subset",
    "expand_grid",
    "load_grid",
    "make_config",
    "manifest_sha256",
    "open_source",
    "recipe_for",
    "run_dir_for",
    "run_sweep",
    "runs_root",
    "train",
]
