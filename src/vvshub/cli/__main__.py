"""``python -m vvshub.cli``: the CLI as a module (what ``torchrun -m vvshub.cli train ...`` runs)."""

import sys

from vvshub.cli._app import main

main(sys.argv[1:])
