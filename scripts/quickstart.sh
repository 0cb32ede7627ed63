#!/usr/bin/env bash
# The main job end to end on embedded defaults: import the reference study into a
# local catalog ($VVSHUB_HOME), query it, and show what the zoo and the laws say.
set -euo pipefail
REFERENCE=${1:-../shared/data/reference}
VVSHUB=${VVSHUB:-.venv/bin/vvshub}
export VVSHUB_HOME=${VVSHUB_HOME:-$HOME/.cache/vvshub}

echo "== catalog: import the reference study into $VVSHUB_HOME/catalog.duckdb"
$VVSHUB catalog import-reference "$REFERENCE"

echo "== sql: rows per region"
$VVSHUB sql "SELECT region, count(*) AS n FROM scores GROUP BY 1 ORDER BY 1"

echo "== sql: best IT alignment per architecture family"
$VVSHUB sql "SELECT arch_family, max(score) AS best_IT, arg_max(model_id, score) AS model
             FROM scores WHERE region = 'IT' AND NOT is_pretrained GROUP BY 1 ORDER BY 2 DESC LIMIT 8"

echo "== models: one model, any spelling"
$VVSHUB models show resnet18_dfull

echo "== zoo: build a study architecture and a new variant; count N and MACs"
$VVSHUB zoo info resnet18 resnetflexfilters-f-1-16-20-11 resnet18_w0.5 cornet_s

echo "== laws: what alignment to expect at 1e20 FLOPs, and the compute-optimal split"
$VVSHUB predict --flops 1e20
