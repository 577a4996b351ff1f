# Helpers shared by every rule: config validation, the run plan, paths and resources.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# rfe_lib sits beside the Snakefile; make it importable here and in every job (also in conda envs).
_REPO = str(Path(workflow.basedir).resolve())
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

import yaml  # noqa: E402

from rfe_lib import RFEError  # noqa: E402
from rfe_lib.job import export_pythonpath  # noqa: E402

export_pythonpath(_REPO)
from rfe_lib.config import check_config, resolve_shards  # noqa: E402
from rfe_lib.fingerprint import code_fingerprint  # noqa: E402
from rfe_lib.models import ModelSpec  # noqa: E402
from rfe_lib.plan import describe, estimate_from_benchmarks, make_plan  # noqa: E402

_SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"

try:
    check_config(config, yaml.safe_load(_SCHEMA.read_text()))  # plain-words messages first
    validate(config, str(_SCHEMA))  # then Snakemake's validation, which fills in the defaults
    PLAN = make_plan(config, cache_dir=".snakemake/rfe-plan")
except RFEError as exc:
    raise WorkflowError(str(exc)) from None

RUN = f"results/{config['run_name']}"
ROUNDS = list(range(PLAN.n_rounds))
MODEL = ModelSpec.from_config(config).to_params()
# `auto` shard counts come from the CPU count of the machine that plans the run; the value is exported
# so that jobs re-parsing this file elsewhere (cluster nodes) cut the grid exactly the same way.
CPUS = int(os.environ.setdefault("RFE_AUTO_SHARDS", str(os.cpu_count() or 1)))
HPO_SHARDS = resolve_shards(config["hpo"]["shards"], PLAN.n_configs, CPUS)
LOFO_SHARDS = [resolve_shards(config["lofo"]["shards"], n, CPUS) for n in PLAN.schedule]
FOLDS = config["split"]["folds"]
ENV_MODEL = "../../envs/model.yaml"
ENV_PLOT = "../../envs/plot.yaml"
ENV_REPORT = "../../envs/report.yaml"

print(
    describe(PLAN, config, HPO_SHARDS, LOFO_SHARDS,
             estimate_from_benchmarks(PLAN, f"{RUN}/benchmarks", HPO_SHARDS)),
    file=sys.stderr,
)


wildcard_constraints:
    r=r"\d\d\d",
    s=r"\d\d+",


def rdir(r):
    """Folder of round r (an int or a wildcard string)."""
    return f"{RUN}/round_{int(r):03d}"


def hpo_shard_paths(wildcards):
    return [f"{rdir(wildcards.r)}/hpo/shard_{s:02d}.parquet" for s in range(HPO_SHARDS)]


def lofo_shard_paths(wildcards):
    r = int(wildcards.r)
    return [f"{rdir(r)}/lofo/shard_{s:02d}.parquet" for s in range(LOFO_SHARDS[r])]


def round_inputs(wildcards):
    r = int(wildcards.r)
    if r == 0:
        return {"feature_map": f"{RUN}/data/feature_map.parquet"}
    return {"previous": f"{rdir(r - 1)}/features.parquet", "eliminated": f"{rdir(r - 1)}/eliminated.parquet"}


def per_round(pattern):
    """Paths of ``pattern`` (relative to a round folder) for every round."""
    return [f"{rdir(r)}/{pattern}" for r in ROUNDS]


# Resources scale with the input: memory with the engineered table's size, runtime with the fits.
DATA_MB = PLAN.n_rows * PLAN.n_columns * 8 / 2**20
TRAIN_SHARE = 1 - config["split"]["test_fraction"] - config["split"]["val_fraction"]
SECONDS_PER_FIT = 0.5 + 2e-6 * PLAN.n_rows * TRAIN_SHARE * PLAN.n_columns  # generous for tree ensembles


def mem_mb(copies):
    def _mem(wildcards, attempt):
        return int((600 + copies * DATA_MB) * attempt)

    return _mem


def runtime_min(fits):
    def _runtime(wildcards, attempt):
        n = fits(wildcards) if callable(fits) else fits
        return int((10 + n * SECONDS_PER_FIT / 60) * attempt)

    return _runtime


def final_outputs():
    return [f"{RUN}/summary/rounds.parquet", f"{RUN}/summary/selected.parquet"]
