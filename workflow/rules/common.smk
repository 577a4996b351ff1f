# Helpers shared by every rule: the settings, the run plan, the strategies, paths and resources.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# rfe_lib sits beside the Snakefile; make it importable here and in every job (also in conda envs).
_REPO = str(Path(workflow.basedir).resolve())
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from rfe_lib import RFEError  # noqa: E402
from rfe_lib.job import export_pythonpath  # noqa: E402

export_pythonpath(_REPO)
from rfe_lib.fingerprint import script_fingerprint  # noqa: E402
from rfe_lib.figures import registry as FIGURES  # noqa: E402
from rfe_lib.importance import methods_title, round_methods  # noqa: E402
from rfe_lib.plan import make_plan  # noqa: E402
from rfe_lib.plan.estimate import estimate_from_benchmarks  # noqa: E402
from rfe_lib.plan.text import describe  # noqa: E402
from rfe_lib.schedule import resolve_shards  # noqa: E402
from rfe_lib.report.texts import run_facts  # noqa: E402
from rfe_lib.schema import SCHEMA_PATH, check_config  # noqa: E402
from rfe_lib.search import search_strategy  # noqa: E402
from rfe_lib.settings import Settings  # noqa: E402

try:
    check_config(config)  # every problem in plain words first
    validate(config, str(SCHEMA_PATH))  # then Snakemake's validation, which fills in the defaults
    SETTINGS = Settings.from_config(config)
    PLAN = make_plan(SETTINGS, cache_dir=".snakemake/rfe-plan")
except RFEError as exc:
    raise WorkflowError(str(exc)) from None

RUN = f"results/{SETTINGS.run_name}"
ROUNDS = list(range(PLAN.n_rounds))
FOLDS = SETTINGS.split.folds
MODEL = SETTINGS.model_spec().to_params()
SEARCH = search_strategy(SETTINGS, PLAN)
RUNGS = [SEARCH.rungs(r) for r in ROUNDS]  # the stages of each round's search
METHODS = round_methods(SETTINGS, PLAN.schedule)  # the importance method of each round
# `auto` shard counts come from the CPU count of the machine that plans the run; the value is exported
# so that jobs re-parsing this file elsewhere (cluster nodes) cut the work exactly the same way.
CPUS = int(os.environ.setdefault("RFE_AUTO_SHARDS", str(os.cpu_count() or 1)))
HPO_SHARDS = [[resolve_shards(SETTINGS.hpo.shards, g.n_candidates, CPUS, FOLDS) for g in rungs] for rungs in RUNGS]
IMPORTANCE_SHARDS = [m.shards(SETTINGS.importance.shards, n, FOLDS, CPUS) for n, m in zip(PLAN.schedule, METHODS)]
# Scheduling: rounds run one after another, so the jobs that lead to the next round's features come
# first whenever several are ready; the round's final model and metrics next; figures, the summary and
# the workbook last. Figures then fill the cores the chain leaves idle (a merge, a lone shard) instead
# of delaying the next round. Priorities change the order only, never a result.
CHAIN_PRIORITY = 20
RESULT_PRIORITY = 10
ENV_MODEL = "../../envs/model.yaml"
ENV_PLOT = "../../envs/plot.yaml"
ENV_REPORT = "../../envs/report.yaml"

if workflow.is_main_process:  # once per run: not again in jobs that re-parse the workflow (cluster jobs)
    print(
        describe(PLAN, SETTINGS, HPO_SHARDS[0][0], IMPORTANCE_SHARDS,
                 estimate_from_benchmarks(PLAN, SETTINGS, f"{RUN}/benchmarks", IMPORTANCE_SHARDS)),
        file=sys.stderr,
    )



def job_fits(key):
    """``{key(rule, wildcards): model fits}`` of every fitting job: search shards and rungs (candidates x folds, item i
    in shard i % n), importance shards (the round's method's count for the shard's features) and each round's final
    model. The progress bar (snakemake_logger_plugin_rfe, ``--logger rfe``) weighs the run's jobs by it."""
    fits = {}
    for r in ROUNDS:
        for g, rung in enumerate(RUNGS[r]):
            n = HPO_SHARDS[r][g]
            for s in range(n):
                name, wc = ("hpo_shard", {}) if g == 0 else ("hpo_rung", {"g": str(g)})
                fits[key(name, {"r": f"{r:03d}", "s": f"{s:02d}", **wc})] = len(range(s, rung.n_candidates, n)) * FOLDS
        n = IMPORTANCE_SHARDS[r]
        for s in range(n):
            fits[key("importance_shard", {"r": f"{r:03d}", "s": f"{s:02d}"})] = METHODS[r].fits(
                len(range(s, PLAN.schedule[r], n)), FOLDS, 1)
        fits[key("train_model", {"r": f"{r:03d}"})] = 1
    return fits


_PROGRESS = sys.modules.get("snakemake_logger_plugin_rfe")  # loaded by Snakemake when installed (--logger rfe)
if workflow.is_main_process and _PROGRESS is not None:
    _PROGRESS.set_plan(job_fits(_PROGRESS.job_key), len(ROUNDS))


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


def file_hash(path):
    """A short hash of a file of the workflow: pass it in ``params:`` to rerun a job when the file changes."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def rdir(r):
    """Folder of round r (an int or a wildcard string)."""
    return f"{RUN}/round_{int(r):03d}"


STOP = SETTINGS.rfe.stop is not None  # early stopping: the rounds that run are known as they finish


def ran_rounds():
    """The rounds that run: every round, or with early stopping those up to the first whose elimination decided
    to stop (each elimination is then a checkpoint: asking for its decision adds the next round's jobs)."""
    if not STOP:
        return ROUNDS
    from rfe_lib.stopping import stopped

    ran = []
    for r in ROUNDS:
        ran.append(r)
        if r == ROUNDS[-1] or stopped(getattr(checkpoints, f"eliminate_{r:03d}").get().output.decision):
            return ran
    return ran


def round_paths(pattern):
    """Paths of ``pattern`` (relative to a round folder) for every round that runs."""
    return [f"{rdir(r)}/{pattern}" for r in ran_rounds()]


def per_round(pattern):
    """An input function: the paths of ``pattern`` for every round that runs."""
    return lambda wildcards: round_paths(pattern)


def eliminate_inputs(r):
    """The elimination of round r reads the round's importance and search shards and, with early stopping, every
    earlier round's search (the CV losses so far)."""
    inputs = {"importance": [f"{rdir(r)}/importance/shard_{s:02d}.parquet" for s in range(IMPORTANCE_SHARDS[r])],
              "hpo": hpo_paths(r), "features": f"{rdir(r)}/features.parquet"}
    if STOP:
        inputs["history"] = [path for i in range(r) for path in hpo_paths(i)]
    return inputs


def eliminate_outputs(r):
    """With early stopping the decision comes first: Snakemake judges whether a checkpoint has run by its first
    output alone, and the job writes the decision last, so a job killed after writing its other outputs still counts
    as not run and reruns on resume (tests/test_resume.py)."""
    outputs = {"decision": f"{rdir(r)}/stop.parquet"} if STOP else {}
    outputs |= {"importance": f"{rdir(r)}/importance/importance.parquet", "eliminated": f"{rdir(r)}/eliminated.parquet"}
    if r + 1 < len(ROUNDS):
        outputs["next_features"] = f"{rdir(r + 1)}/features.parquet"
    return outputs


def eliminate_params(r):
    return {"k": PLAN.eliminate[r], "round": r, "search": SEARCH.to_params(), "stop": SETTINGS.rfe.stop,
            "code": script_code("eliminate")}


def hpo_rung_paths(r, g):
    """The shards of rung g of round r's search (rung 0's directly under hpo/)."""
    folder = f"{rdir(r)}/hpo" if g == 0 else f"{rdir(r)}/hpo/rung_{g}"
    return [f"{folder}/shard_{s:02d}.parquet" for s in range(HPO_SHARDS[int(r)][g])]


def hpo_paths(r):
    """Every shard of every rung of round r's search: what the jobs that read the search merge."""
    return [path for g in range(len(RUNGS[int(r)])) for path in hpo_rung_paths(r, g)]


def hpo_shard_paths(wildcards):
    return hpo_paths(wildcards.r)


def hpo_rung_inputs(wildcards):
    """What a rung's shard reads besides the round's data: the rung before (the candidates are its best) and, in a
    round that carries the previous round's ranking, that round's search."""
    r, g = int(wildcards.r), int(wildcards.get("g", 0))
    paths = {}
    if g > 0:
        paths["rung_before"] = hpo_rung_paths(r, g - 1)
    if g == 0 and not SEARCH.searches_fully(r):
        paths["previous_round"] = hpo_paths(r - 1)
    return paths


# What every fitting job of a round reads: the engineered table, the feature map, the split and the round's features.
ROUND_DATA = {
    "table": f"{RUN}/data/features.parquet",
    "feature_map": f"{RUN}/data/feature_map.parquet",
    "split": f"{RUN}/split/indices.parquet",
    "features": f"{RUN}/round_{{r}}/features.parquet",
}


# Resources scale with the input: memory with the engineered table's size, runtime with the fits.
DATA_MB = PLAN.n_rows * PLAN.n_columns * 8 / 2**20
SECONDS_PER_FIT = 0.5 + 2e-6 * PLAN.n_rows * SETTINGS.split.train_share * PLAN.n_columns  # generous for tree ensembles


def mem_mb(copies):
    def _mem(wildcards, attempt):
        return int((600 + copies * DATA_MB) * attempt)

    return _mem


def runtime_min(fits):
    def _runtime(wildcards, attempt):
        n = fits(wildcards) if callable(fits) else fits
        return int((10 + n * SECONDS_PER_FIT / 60) * attempt)

    return _runtime


# --- Figures (figures.smk): which PNGs each round has is fixed here, from the registry ---

PLOT_DIR = f"{RUN}/plots"
FIGURE_JOBS = "round"  # one job draws all of a round's figures ("family": one job per round and figure family)
FIGURE_GROUPS = FIGURES.figure_groups(PLAN.schedule, SETTINGS, per=FIGURE_JOBS, rungs=[len(g) for g in RUNGS])
# Every figure rule's group: profiles/slurm bundles them (group-components). Not with early stopping: Snakemake
# rebuilds its groups each time a checkpoint finishes, and can then put one job twice into a bundle, which asks for
# more CPUs than the bundle's jobs need (snakemake/snakemake#1628, seen here: a bundle of two figure jobs asked for 3
# CPUs and never started on 2-CPU nodes). Each figure job is then a SLURM job of its own.
FIGURE_JOB_GROUP = None if STOP else "figures"
PLOT_MEM_MB = int(400 + 3 * PLAN.n_rows * 6 * 8 / 2**20)  # a few copies of the predictions table, and matplotlib
# Captions are written by the report_texts job; Snakemake reads them when it builds the report.
CAPTIONS = Path(f"{RUN}/report/captions").resolve()


def round_figure_paths(r):
    figures = FIGURES.round_figures(PLAN.schedule[r], SETTINGS, len(RUNGS[r]))
    return [f"{PLOT_DIR}/round_{r:03d}/{name}.png" for name, _, _ in figures]


def summary_figure_paths():
    return [f"{PLOT_DIR}/summary/{f.name}.png" for f in FIGURES.SUMMARY_FIGURES]


def figure_names():
    """Every figure name of the run (one caption each)."""
    names = [name for group in FIGURE_GROUPS for name in group.names]
    return list(dict.fromkeys(names + [f.name for f in FIGURES.SUMMARY_FIGURES]))


def caption_file(name):
    """The caption of the figure ``name``, as the report_texts job writes it."""
    return f"{RUN}/report/captions/{name}.rst"


def caption(name):
    """The same, as an absolute path for report(caption=...) (Snakemake joins it with the rule file's folder)."""
    return str(CAPTIONS / f"{name}.rst")


def figure_inputs(group):
    """Only what the group's figures read, so its job reruns only when their data change."""

    def _inputs(wildcards):
        folders = {"run": RUN, "round": rdir(wildcards.r)}
        return {key: f"{folders[FIGURES.INPUTS[key][0]]}/{FIGURES.INPUTS[key][1]}" for key in group.needs()}

    return _inputs


def figure_options(group):
    """Every setting the group's figures read, and nothing else (so other settings do not redraw them)."""

    def _options(wildcards):
        r = int(wildcards.r)
        return FIGURES.pick(FIGURES.round_options(SETTINGS, PLAN, r, METHODS[r]), group.figures())

    return _options


SUMMARY_FIGURE_OPTIONS = FIGURES.pick(FIGURES.summary_options(SETTINGS, methods_title(METHODS)),
                                      FIGURES.SUMMARY_FIGURES)


def summary_figure_inputs(wildcards):
    return {"rounds": f"{RUN}/summary/rounds.parquet", "selected": f"{RUN}/summary/selected.parquet",
            "eliminated": round_paths("eliminated.parquet"), "correlated": f"{RUN}/data/correlated.parquet",
            "last_importance": f"{rdir(ran_rounds()[-1])}/importance/importance.parquet"}


# --- Tables, the workbook and the report's texts (report.smk) ---

TABLES = {  # report CSV -> its label in the report
    "summary": "one row per round",
    "selected": "the selected round's features",
    "elimination": "elimination order",
    "metrics": "metrics per round and set",
}
RUN_TABLE_INPUTS = {
    "rounds": f"{RUN}/summary/rounds.parquet",
    "selected": f"{RUN}/summary/selected.parquet",
    "importance": per_round("importance/importance.parquet"),
    "eliminated": per_round("eliminated.parquet"),
    "metrics": per_round("eval/metrics.parquet"),
}


def report_table_paths():
    return [f"{RUN}/tables/{name}.csv" for name in TABLES]


def workbook_inputs(wildcards):
    paths = {
        **{key: value(wildcards) if callable(value) else value for key, value in RUN_TABLE_INPUTS.items()},
        "best": round_paths("hpo/best.parquet"),
        "results": round_paths("hpo/results.parquet"),
        "validation": f"{RUN}/data/validation.parquet",
        "data": SETTINGS.data.path,
    }
    if SETTINGS.excel.predictions:
        paths["predictions"] = round_paths("model/predictions.parquet")
    return paths


DESCRIPTION = f"{RUN}/report/description.rst"


def report_description():
    """The report's front page: the report_texts job's description of the finished run, or (before the run has
    finished) a note saying so. Snakemake reads it only for --report."""
    if Path(DESCRIPTION).is_file():
        return str(Path(DESCRIPTION).resolve())
    return str(Path(workflow.basedir) / "workflow" / "report" / "pending.rst")


_SELECTED_ROUND = []


def selected_round():
    """The selected round of a finished run (``summary/selected.parquet``), or None; read once, when
    ``--report`` asks for the first figure's category."""
    if not _SELECTED_ROUND:
        path = Path(RUN) / "summary" / "selected.parquet"
        value = None
        if path.is_file():
            import pyarrow.parquet as pq

            value = int(pq.read_table(path, columns=["round"]).column(0)[0].as_py())
        _SELECTED_ROUND.append(value)
    return _SELECTED_ROUND[0]


def round_category(wildcards):
    """A round's category in the report; the selected round says so (evaluated when the report is made)."""
    r = int(wildcards.r)
    return f"Round {r:03d}" + (" (selected)" if r == selected_round() else "")


def final_outputs(wildcards=None):
    """The default target: the summary, every figure, the report tables and texts, and the workbook."""
    outputs = [f"{RUN}/summary/rounds.parquet", f"{RUN}/summary/selected.parquet"]
    outputs += [path for r in ran_rounds() for path in round_figure_paths(r)]
    outputs += summary_figure_paths()
    outputs += report_table_paths()
    outputs += [DESCRIPTION, *(caption_file(name) for name in figure_names())]
    outputs.append(f"{RUN}/report.xlsx")
    return outputs
