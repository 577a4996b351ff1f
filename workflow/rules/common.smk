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
from rfe_lib.fingerprint import code_fingerprint, script_fingerprint  # noqa: E402
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
# Scheduling: rounds run one after another, so the jobs that lead to the next round's features come
# first whenever several are ready; the round's final model and metrics next; figures, the summary and
# the workbook last. Figures then fill the cores the chain leaves idle (a merge, a lone shard) instead
# of delaying the next round. Priorities change the order only, never a result.
CHAIN_PRIORITY = 20
RESULT_PRIORITY = 10
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


onstart:
    # A job killed mid-write (kill -9, power loss) leaves a hidden temporary beside its target. Remove
    # them all before any job starts: this run holds Snakemake's lock, so no job of ours is writing.
    from rfe_lib.io import remove_stale_under

    for stale in remove_stale_under(RUN):
        print(f"removed a temporary left by an interrupted job: {stale}", file=sys.stderr)


def script_code(name):
    """Fingerprint of the rfe_lib code that workflow/scripts/<name>.py runs: pass it as ``code=`` in
    ``params:`` so that editing any module the script imports (directly or not) reruns the rule."""
    return script_fingerprint(str(Path(workflow.basedir) / "workflow" / "scripts" / f"{name}.py"))


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
    """The default target: the summary, every figure, the report tables and the workbook."""
    outputs = [f"{RUN}/summary/rounds.parquet", f"{RUN}/summary/selected.parquet"]
    outputs += [path for r in ROUNDS for path in round_plot_paths(r)]
    outputs += summary_plot_paths()
    outputs += report_table_paths()
    outputs.append(f"{RUN}/report.xlsx")
    return outputs


# --- Figures (plots.smk): which PNGs a round has is fixed here, at parse time ---

from rfe_lib import plots_catalog as PLOTS  # noqa: E402

PLOT_DIR = f"{RUN}/plots"
PLOT_TARGET = {"target": config["data"]["target"], "unit": config["plots"]["target_unit"],
               "angle": config["target_angle"]}
PLOT_MEM_MB = int(400 + 3 * PLAN.n_rows * 6 * 8 / 2**20)  # a few copies of the predictions table, and matplotlib


def round_plot_paths(r):
    names = PLOTS.round_plots(PLAN.schedule[r], config["plots"]["top_features"], config["hpo"]["grid"])
    return [f"{PLOT_DIR}/round_{r:03d}/{name}.png" for name in names]


def summary_plot_paths():
    return [f"{PLOT_DIR}/summary/{name}.png" for name in PLOTS.SUMMARY_PLOTS]


def round_plot_inputs(wildcards):
    """Only what this figure reads, so a figure reruns only when its own data changes."""
    d = rdir(wildcards.r)
    paths = {
        "predictions": f"{d}/model/predictions.parquet",
        "metrics": f"{d}/eval/metrics.parquet",
        "importance": f"{d}/lofo/importance.parquet",
        "table": f"{RUN}/data/features.parquet",
        "feature_map": f"{RUN}/data/feature_map.parquet",
        "hpo": f"{d}/hpo/results.parquet",
    }
    return {key: paths[key] for key in PLOTS.needs(wildcards.plot)}


def round_plot_options(wildcards):
    """Every config value this figure uses, and nothing else (so other settings do not redraw it)."""
    family, _ = PLOTS.family(wildcards.plot)
    opts = {**PLOT_TARGET, "round": int(wildcards.r), "metric": config["hpo"]["metric"]}
    if family == "errors":
        opts["tolerances"] = config["evaluation"]["tolerances"]
    elif family == "top":
        opts["cyclic"] = config["features"]["cyclic"]
    elif family == "lofo":
        opts["n_eliminated"] = PLAN.eliminate[int(wildcards.r)]
    elif wildcards.plot == "hpo_ranked":
        opts["max_configs"] = config["plots"]["ranked_configs"]
    return opts


def summary_plot_inputs(wildcards):
    paths = {"rounds": f"{RUN}/summary/rounds.parquet", "selected": f"{RUN}/summary/selected.parquet"}
    if wildcards.plot == "elimination_order":
        paths["eliminated"] = per_round("eliminated.parquet")
        paths["last_importance"] = f"{rdir(ROUNDS[-1])}/lofo/importance.parquet"
    return paths


# --- Tables and the workbook (report.smk) ---

TABLES = {  # report CSV -> its label in the report
    "summary": "one row per round",
    "selected": "the selected round's features",
    "elimination": "elimination order",
    "metrics": "metrics per round and set",
}
RUN_TABLE_INPUTS = {
    "rounds": f"{RUN}/summary/rounds.parquet",
    "selected": f"{RUN}/summary/selected.parquet",
    "importance": per_round("lofo/importance.parquet"),
    "eliminated": per_round("eliminated.parquet"),
    "metrics": per_round("eval/metrics.parquet"),
}


def report_table_paths():
    return [f"{RUN}/tables/{name}.csv" for name in TABLES]


def workbook_inputs(wildcards):
    paths = {
        **RUN_TABLE_INPUTS,
        "best": per_round("hpo/best.parquet"),
        "results": per_round("hpo/results.parquet"),
        "validation": f"{RUN}/data/validation.parquet",
        "data": config["data"]["path"],
    }
    if config["excel"]["predictions"]:
        paths["predictions"] = per_round("model/predictions.parquet")
    return paths


# --- The report: the selected round (known once the run has finished) and the workflow description ---

_SELECTED_ROUND = []


def selected_round():
    """The selected round of a finished run (``summary/selected.parquet``), or None; read once per parse."""
    if not _SELECTED_ROUND:
        path = Path(RUN) / "summary" / "selected.parquet"
        value = None
        if path.is_file():
            import pyarrow.parquet as pq

            value = int(pq.read_table(path, columns=["round"]).column(0)[0].as_py())
        _SELECTED_ROUND.append(value)
    return _SELECTED_ROUND[0]


def round_plot_category(wildcards):
    """A round's category in the report; the selected round says so (evaluated when the report is made)."""
    r = int(wildcards.r)
    return f"Round {r:03d}" + (" (selected)" if r == selected_round() else "")


def report_description():
    """The report's workflow description: workflow/report/workflow.rst rendered into .snakemake/rfe-report/ with
    this run's selected round, features and test metrics (a generic text before the run has finished).
    Snakemake reads it only for --report; jobs that re-parse the workflow skip the rendering."""
    template = Path(workflow.basedir) / "workflow" / "report" / "workflow.rst"
    if not workflow.is_main_process:
        return str(template)
    from rfe_lib.report import write_description

    out = Path(".snakemake") / "rfe-report" / f"{config['run_name']}.rst"
    return write_description(template, out, RUN, config, PLAN)
