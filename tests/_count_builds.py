"""Run Snakemake in this process (``python tests/_count_builds.py <snakemake arguments>``) and count, for
``tests/test_computed_once.py``, how often the main process validates the config against the schema and builds a
search strategy; the counts go to the JSON file ``$RFE_COUNTS`` when the process exits.

A validation is a traversal of the config by a JSON-schema validator: each goes through
``rfe_lib.schema._strict_validator``, or is Snakemake's own ``snakemake.utils.validate``. A build is a call of a
strategy's ``from_settings`` (recorded with the strategy's parameters, so that two builds of one strategy show).
"""

import atexit
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rfe_lib, as the Snakefile's

import snakemake.utils  # noqa: E402

import rfe_lib.schema as schema  # noqa: E402
from rfe_lib.search import SEARCHES  # noqa: E402

COUNTS = {"validations": 0, "builds": []}


def _counted(fn):
    def wrapper(*args, **kwargs):
        COUNTS["validations"] += 1
        return fn(*args, **kwargs)

    return wrapper


schema._strict_validator = _counted(schema._strict_validator)
snakemake.utils.validate = _counted(snakemake.utils.validate)

for cls in SEARCHES.values():
    def _build(hpo, n_configs, data, _from_settings=cls.from_settings):
        strategy = _from_settings(hpo, n_configs, data)
        COUNTS["builds"].append(json.dumps(strategy.to_params(), sort_keys=True, default=str))
        return strategy

    cls.from_settings = staticmethod(_build)

atexit.register(lambda: Path(os.environ["RFE_COUNTS"]).write_text(json.dumps(COUNTS)))

from snakemake.cli import main  # noqa: E402

sys.argv = ["snakemake", *sys.argv[1:]]
main()
