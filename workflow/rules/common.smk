# Helpers shared by every rule: the settings, the run plan, the strategies, paths and resources.

import os
import sys
from pathlib import Path
from types import SimpleNamespace

from snakemake.exceptions import WorkflowError

# rfe_lib sits beside the Snakefile; make it importable here and in every job (also in conda envs).
_REPO = str(Path(workflow.basedir).resolve())
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from rfe_lib import RFEError  # noqa: E402
from rfe_lib.boosting import library_of  # noqa: E402
from rfe_lib.job import export_pythonpath  # noqa: E402

export_pythonpath(_REPO)
from rfe_lib.fingerprint import script_fingerprint  # noqa: E402
from rfe_lib.figures import registry as FIGURES  # noqa: E402
from rfe_lib.importance import methods_title, round_methods  # noqa: E402
from rfe_lib.layout import Layout  # noqa: E402
from rfe_lib.plan import make_plan  # noqa: E402
from rfe_lib.plan.estimate import estimate_from_benchmarks  # noqa: E402
from rfe_lib.plan.presets import Machine, budget_plan, round_size, wall_seconds, waves  # noqa: E402
from rfe_lib.plan.text import describe  # noqa: E402
from rfe_lib.schedule import resolve_shards  # noqa: E402
from rfe_lib.report.texts import run_facts, template_name  # noqa: E402
from rfe_lib.search import search_strategy  # noqa: E402
from rfe_lib.settings import Settings  # noqa: E402
from rfe_lib.repeats import final_settings, repeat_settings  # noqa: E402
from rfe_lib.plan.text import describe_repeats  # noqa: E402

try:
    # The config's one validation: every problem in plain words (as written, so that rules about which keys a file
    # writes can be checked), the schema's defaults filled in, the cross-key rules (Settings.check).
    SETTINGS = Settings.from_config(config, written=True, fill=True)  # fill: the workbook's Config sheet lists config
    REPEATS = SETTINGS.rfe.repeats
    # Repeats (rfe.repeats > 1): each repeat is a run of its own (its split seed is split.seed + i) in
    # results/<run>/repeat_<i>/, and a final search and fit on every non-test row in results/<run>/final/.
    BRANCH_SETTINGS = [SETTINGS] if REPEATS == 1 else [repeat_settings(SETTINGS, i) for i in range(REPEATS)]
    PLANS = [make_plan(s, cache_dir=".snakemake/rfe-plan") for s in BRANCH_SETTINGS]
except RFEError as exc:
    raise WorkflowError(str(exc)) from None

RUN_LAYOUT = Layout.of(SETTINGS.run_name)  # every artifact path (rfe_lib/layout.py)
FOLDS = SETTINGS.split.folds
# `auto` shard counts come from the CPU count of the machine that plans the run; the value is exported
# so that jobs re-parsing this file elsewhere (cluster nodes) cut the work exactly the same way.
CPUS = int(os.environ.setdefault("RFE_AUTO_SHARDS", str(os.cpu_count() or 1)))


def _invocation_cores():
    """The -j cores: a run's cores; a dry run (`-n -j 2`) keeps cores at 1 and puts -j in the nodes."""
    res = workflow.global_resources
    counts = [res[k].value for k in ("_cores", "_nodes") if k in res and isinstance(res[k].value, int)]
    return max(counts) if counts else CPUS


# The presets table and the time box (budget.hours; rfe_lib/plan/presets.py). The main process chooses the
# preset and exports its name, so that jobs re-parsing this file (other cores, other nodes) use the same one.
BUDGET = None
if SETTINGS.budget.hours is not None or workflow.is_main_process:
    try:
        BUDGET = budget_plan(PLANS[0], SETTINGS, _invocation_cores(), CPUS, on_cluster=not workflow.local_exec,
                             main_process=workflow.is_main_process)
    except RFEError as exc:
        raise WorkflowError(str(exc)) from None
    SETTINGS = BUDGET.settings
    BRANCH_SETTINGS = [SETTINGS] if REPEATS == 1 else [repeat_settings(SETTINGS, i) for i in range(REPEATS)]
BUDGET_WHY = BUDGET.why if BUDGET is not None else ""  # the summary and the report say it (empty without a box)


def make_branch(name, settings, plan, layout, final=False):
    """One elimination (a run, or a repeat of one), or the final model of a repeated run: its settings, plan, search
    strategy (built here, once, and passed to whatever needs it), the stages of each round's search, each round's
    importance method and shard counts."""
    search = search_strategy(settings, plan)
    rounds = [0] if final else list(range(plan.n_rounds))
    rungs = [search.rungs(r) for r in rounds]
    methods = round_methods(settings, plan.schedule)
    return SimpleNamespace(
        name=name, settings=settings, plan=plan, layout=layout, final=final, rounds=rounds, search=search,
        rungs=rungs, methods=methods, model=settings.model_spec().to_params(),
        hpo_shards=[[resolve_shards(settings.hpo.shards, g.n_candidates, CPUS, FOLDS) for g in rs] for rs in rungs],
        importance_shards=[m.shards(settings.importance.shards, n, FOLDS, CPUS) for n, m in zip(plan.schedule, methods)],
    )


if REPEATS == 1:
    BRANCHES = {"": make_branch("", SETTINGS, PLANS[0], RUN_LAYOUT)}
    LAYOUT = RUN_LAYOUT  # the layout of the rules' paths
else:
    BRANCHES = {RUN_LAYOUT.repeat_name(i): make_branch(RUN_LAYOUT.repeat_name(i), s, p, RUN_LAYOUT.repeat(i))
                for i, (s, p) in enumerate(zip(BRANCH_SETTINGS, PLANS))}
    BRANCHES["final"] = make_branch("final", final_settings(SETTINGS), PLANS[0], RUN_LAYOUT.final(), final=True)
    LAYOUT = RUN_LAYOUT.branch("{branch}")  # results/<run>/{branch}: a repeat, or the final model
ELIMINATIONS = [b for b in BRANCHES.values() if not b.final]  # the runs of the elimination (one, or the repeats)
FIRST = ELIMINATIONS[0]
# The run's, or the first repeat's (what the plan prints, figures and resources go by).
PLAN, SEARCH, METHODS = FIRST.plan, FIRST.search, FIRST.methods
ROUNDS, RUNGS = FIRST.rounds, FIRST.rungs


def B(wildcards):
    """The branch of a job (by its ``branch`` wildcard; the only one in a run without repeats)."""
    return BRANCHES[wildcards.get("branch", "")]


# Scheduling: rounds run one after another, so the jobs that lead to the next round's features come
# first whenever several are ready; the round's final model and metrics next; figures, the summary and
# the workbook last. Figures then fill the cores the chain leaves idle (a merge, a lone shard) instead
# of delaying the next round. Priorities change the order only, never a result.
CHAIN_PRIORITY = 20
RESULT_PRIORITY = 10
# LightGBM, XGBoost and CatBoost estimators (rfe_lib/boosting.py) need an environment with their library.
ENV_MODEL = "../../envs/model-boost.yaml" if library_of(SETTINGS.model.estimator) else "../../envs/model.yaml"
ENV_PLOT = "../../envs/plot.yaml"
ENV_REPORT = "../../envs/report.yaml"


def hpo_benchmarks(b):
    """(benchmark file, shard) of every shard of every round's first rung: what the plan's estimate learns from."""
    return [(b.layout.benchmark(b.layout.hpo_job(0, s), r), b.layout.hpo_shard(r, 0, s))
            for r in b.rounds for s in range(b.hpo_shards[r][0])]


if workflow.is_main_process:  # once per run: not again in jobs that re-parse the workflow (cluster jobs)
    print(
        describe(PLAN, FIRST.settings, SEARCH, FIRST.hpo_shards[0][0], FIRST.importance_shards,
                 estimate_from_benchmarks(PLAN, FIRST.settings, SEARCH, hpo_benchmarks(FIRST), FIRST.importance_shards)),
        *([BUDGET.text] if BUDGET is not None and BUDGET.text else []),
        sep="\n",
        file=sys.stderr,
    )
    if REPEATS > 1:
        print(describe_repeats(SETTINGS, [(b.plan, b.settings, b.search, b.importance_shards) for b in ELIMINATIONS],
                               BRANCHES["final"].search), file=sys.stderr)


# With repeats, a job's branch: a repeat (repeat_000, ...) or the final model; REPEAT_BRANCH: rules of repeats only.
REPEAT_BRANCH = {} if REPEATS == 1 else {"branch": r"repeat_\d{3}"}



def job_fits(key, work=False):
    """``{key(rule, wildcards): model fits}`` of every fitting job of every branch (the run, or each repeat and the
    final model): search shards and rungs (candidates x folds, item i in shard i % n), importance shards (the round's
    method's count for the shard's features) and each round's final model. The progress bar
    (snakemake_logger_plugin_rfe, ``--logger rfe``) weighs the run's jobs by it. ``work``: each job's work in
    round-0 fits instead, as the plan's estimate counts it (rfe_lib.plan.presets.waves): a fit of round r weighs
    ``a + (1 - a) * n_r / n_0`` (``a``: the plan's column share) and a halving rung's fit its share of the resource;
    the bar's ETA goes by it."""
    fits = {}
    for b in BRANCHES.values():
        branch = {"branch": b.name} if b.name else {}
        for r in b.rounds:
            at = {**branch, "r": f"{r:03d}"}
            size = round_size(b.plan, r) if work else 1.0
            for g, rung in enumerate(b.rungs[r]):
                n = b.hpo_shards[r][g]
                share = rung.resource_fraction * size if work else 1
                for s in range(n):
                    name, wc = ("hpo_shard", {}) if g == 0 else ("hpo_rung", {"g": str(g)})
                    fits[key(name, {**at, "s": f"{s:02d}", **wc})] = len(range(s, rung.n_candidates, n)) * FOLDS * share
            if not b.final:
                n = b.importance_shards[r]
                for s in range(n):
                    fits[key("importance_shard", {**at, "s": f"{s:02d}"})] = b.methods[r].fits(
                        len(range(s, b.plan.schedule[r], n)), FOLDS, 1) * (size if work else 1)
            fits[key("train_model", at)] = size if work else 1
    return fits


def run_estimate():
    """The plan's wall seconds for the whole run on this invocation's cores (every elimination; a repeated run's
    final model left out), or None without a calibration fit: the progress bar's ETA until a fitting job ends."""
    if any(b.plan.seconds_per_fit is None for b in ELIMINATIONS):
        return None
    machine = Machine(_invocation_cores())
    return sum(wall_seconds(waves(b.plan, b.settings, CPUS), b.plan.seconds_per_fit, machine) for b in ELIMINATIONS)


_PROGRESS = sys.modules.get("snakemake_logger_plugin_rfe")  # loaded by Snakemake when installed (--logger rfe)
if workflow.is_main_process and _PROGRESS is not None:
    _PROGRESS.set_plan(job_fits(_PROGRESS.job_key), len(ROUNDS), run_estimate(), job_fits(_PROGRESS.job_key, work=True))


wildcard_constraints:
    branch=r"repeat_\d{3}|final",
    r=r"\d\d\d",
    s=r"\d\d+",
    g=r"[1-9]\d*",


onstart:
    # A job killed mid-write (kill -9, power loss) leaves a hidden temporary beside its target. Remove
    # them all before any job starts: this run holds Snakemake's lock, so no job of ours is writing.
    from rfe_lib.io import remove_stale_under

    for stale in remove_stale_under(RUN_LAYOUT.root):
        print(f"removed a temporary left by an interrupted job: {stale}", file=sys.stderr)


def script_code(name):
    """Fingerprint of the rfe_lib code that workflow/scripts/<name>.py runs: pass it as ``code=`` in
    ``params:`` so that editing any module the script imports (directly or not) reruns the rule."""
    return script_fingerprint(str(Path(workflow.basedir) / "workflow" / "scripts" / f"{name}.py"))


def file_hash(path):
    """A short hash of a file of the workflow: pass it in ``params:`` to rerun a job when the file changes."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


STOP = SETTINGS.rfe.stop is not None  # early stopping: the rounds that run are known as they finish


def eliminate_rule(b, r):
    """The name of the rule (a checkpoint with early stopping) that eliminates after round r of branch b."""
    return f"eliminate_{r:03d}" if b.name == "" else f"eliminate_{b.name}_{r:03d}"


def ran_rounds(b=FIRST):
    """The rounds of branch b that run: every round, or with early stopping those up to the first whose elimination
    decided to stop (each elimination is then a checkpoint: asking for its decision adds the next round's jobs)."""
    if not STOP or b.final:
        return b.rounds
    from rfe_lib.stopping import stopped

    ran = []
    for r in b.rounds:
        ran.append(r)
        if r == b.rounds[-1] or stopped(getattr(checkpoints, eliminate_rule(b, r)).get().output.decision):
            return ran
    return ran


def round_paths(key, b=FIRST):
    """The round artifact ``key`` (rfe_lib.layout.ROUND_FILES) of every round of branch b that runs."""
    return [b.layout.round_file(r, key) for r in ran_rounds(b)]


def per_round(key):
    """An input function: the round artifact ``key`` of every round of the job's branch that runs."""
    return lambda wildcards: round_paths(key, B(wildcards))


def eliminate_inputs(b, r):
    """The elimination of round r reads the round's importance and search shards and, with early stopping, every
    earlier round's search (the CV losses so far)."""
    inputs = {"importance": [b.layout.importance_shard(r, s) for s in range(b.importance_shards[r])],
              "hpo": hpo_paths(b, r), "features": b.layout.round_file(r, "features")}
    if STOP:
        inputs["history"] = [path for i in range(r) for path in hpo_paths(b, i)]
    return inputs


def eliminate_outputs(b, r):
    """With early stopping the decision comes first: Snakemake judges whether a checkpoint has run by its first
    output alone, and the job writes the decision last, so a job killed after writing its other outputs still counts
    as not run and reruns on resume (tests/test_resume.py)."""
    outputs = {"decision": b.layout.round_file(r, "decision")} if STOP else {}
    outputs |= {key: b.layout.round_file(r, key) for key in ("importance", "eliminated")}
    if r + 1 < len(b.rounds):
        outputs["next_features"] = b.layout.round_file(r + 1, "features")
    return outputs


def eliminate_params(b, r):
    return {"k": b.plan.eliminate[r], "round": r, "search": b.search.to_params(), "stop": SETTINGS.rfe.stop,
            "code": script_code("eliminate")}


def eliminate_job(b, r):
    """Everything the elimination after round r of branch b declares, for its two declarations in rounds.smk (a rule,
    or with early stopping a checkpoint): its name, input, output, log, params and resources."""
    from types import SimpleNamespace

    return SimpleNamespace(name=eliminate_rule(b, r), input=eliminate_inputs(b, r), output=eliminate_outputs(b, r),
                           log=b.layout.log("eliminate", r), params=eliminate_params(b, r),
                           resources={"mem_mb": 1000, "runtime": 5})


def hpo_rung_paths(b, r, g):
    """The shards of rung g of round r's search (rung 0's directly under hpo/)."""
    return [b.layout.hpo_shard(r, g, s) for s in range(b.hpo_shards[int(r)][g])]


def hpo_paths(b, r):
    """Every shard of every rung of round r's search: what the jobs that read the search merge."""
    return [path for g in range(len(b.rungs[int(r)])) for path in hpo_rung_paths(b, r, g)]


def hpo_shard_fits(wildcards):
    """The fits of one shard of a rung (for its runtime)."""
    b, r, g = B(wildcards), int(wildcards.r), int(wildcards.get("g", 0))
    return -(-b.rungs[r][g].n_candidates // b.hpo_shards[r][g]) * FOLDS


def importance_shard_fits(wildcards):
    """The fits of one importance shard (for its runtime)."""
    b, r = B(wildcards), int(wildcards.r)
    return b.methods[r].fits(-(-b.plan.schedule[r] // b.importance_shards[r]), FOLDS, 1)


def round_data(wildcards):
    """What every fitting job of a round reads: the engineered table, the feature map, the split and the round's
    features. The final model of a repeated run reads the first repeat's table (its rows are engineered one by one,
    so every repeat's is the same) and the feature map of the consensus set."""
    b = B(wildcards)
    return {"table": (FIRST if b.final else b).layout.file("table"), "feature_map": b.layout.file("feature_map"),
            "split": b.layout.file("split"), "features": b.layout.round_file(wildcards.r, "features")}


def hpo_inputs(wildcards):
    """A rung's shard reads the round's data, the rung before (the candidates are its best) and, in a round that
    carries the previous round's ranking, that round's search."""
    b, r, g = B(wildcards), int(wildcards.r), int(wildcards.get("g", 0))
    paths = round_data(wildcards)
    if g > 0:
        paths["rung_before"] = hpo_rung_paths(b, r, g - 1)
    if g == 0 and not b.search.searches_fully(r):
        paths["previous_round"] = hpo_paths(b, r - 1)
    return paths


def train_inputs(wildcards):
    return {**round_data(wildcards), "hpo": hpo_paths(B(wildcards), wildcards.r)}


def importance_inputs(wildcards):
    """The importance shards read the round's data and its search (but not with a grid of one configuration: they
    know the best parameters from the start)."""
    b = B(wildcards)
    return {**round_data(wildcards), "hpo": hpo_paths(b, wildcards.r) if b.search.known_best() is None else []}


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

FIGURE_JOBS = "round"  # one job draws all of a round's figures ("family": one job per round and figure family)
FIGURE_GROUPS = FIGURES.figure_groups(PLAN.schedule, SETTINGS, per=FIGURE_JOBS, rungs=[len(g) for g in RUNGS])
# Every figure rule's group: profiles/slurm bundles them (group-components). Not with early stopping: Snakemake
# rebuilds its groups each time a checkpoint finishes, and can then put one job twice into a bundle, which asks for
# more CPUs than the bundle's jobs need (snakemake/snakemake#1628, seen here: a bundle of two figure jobs asked for 3
# CPUs and never started on 2-CPU nodes). Each figure job is then a SLURM job of its own.
FIGURE_JOB_GROUP = None if STOP else "figures"
PLOT_MEM_MB = int(400 + 3 * PLAN.n_rows * 6 * 8 / 2**20)  # a few copies of the predictions table, and matplotlib
# Captions are written by the report_texts job; Snakemake reads them when it builds the report.
CAPTIONS = Path(RUN_LAYOUT.captions_dir).resolve()


def round_figure_paths(r):
    figures = FIGURES.round_figures(PLAN.schedule[r], SETTINGS, len(RUNGS[r]))
    return [RUN_LAYOUT.plot(name, r) for name, _, _ in figures]


SUMMARY_FIGURES = FIGURES.summary_figures(SETTINGS)  # with the split's figure for a group or time split


def summary_figure_paths():
    return [RUN_LAYOUT.plot(f.name) for f in SUMMARY_FIGURES]


def figure_names():
    """Every figure name of the run (one caption each)."""
    if REPEATS > 1:
        return [f.name for f in FIGURES.REPEAT_FIGURES]
    names = [name for group in FIGURE_GROUPS for name in group.names]
    return list(dict.fromkeys(names + [f.name for f in SUMMARY_FIGURES]))


def caption_file(name):
    """The caption of the figure ``name``, as the report_texts job writes it."""
    return RUN_LAYOUT.caption(name)


def caption(name):
    """The same, as an absolute path for report(caption=...) (Snakemake joins it with the rule file's folder)."""
    return str(CAPTIONS / f"{name}.rst")


def figure_inputs(group):
    """Only what the group's figures read, so its job reruns only when their data change."""

    def _inputs(wildcards):
        return {key: FIGURES.input_path(RUN_LAYOUT, key, wildcards.r) for key in group.needs()}

    return _inputs


def figure_options(group):
    """Every setting the group's figures read, and nothing else (so other settings do not redraw them)."""

    def _options(wildcards):
        r = int(wildcards.r)
        return FIGURES.pick(FIGURES.round_options(SETTINGS, PLAN, r, METHODS[r]), group.figures())

    return _options


SUMMARY_FIGURE_OPTIONS = FIGURES.pick(FIGURES.summary_options(SETTINGS, methods_title(METHODS)), SUMMARY_FIGURES)


def summary_figure_inputs(wildcards):
    return {"rounds": RUN_LAYOUT.file("rounds"), "selected": RUN_LAYOUT.file("selected"),
            "eliminated": round_paths("eliminated"), "correlated": RUN_LAYOUT.file("correlated"),
            "last_importance": RUN_LAYOUT.round_file(ran_rounds()[-1], "importance"),
            **({"split": RUN_LAYOUT.file("split")} if FIGURES.SPLIT_FIGURE in SUMMARY_FIGURES else {})}


# --- Tables, the workbook and the report's texts (report.smk) ---

TABLES = {  # report CSV -> its label in the report
    "summary": "one row per round",
    "selected": "the selected round's features",
    "elimination": "elimination order",
    "metrics": "metrics per round and set",
}
RUN_TABLE_INPUTS = {
    "rounds": RUN_LAYOUT.file("rounds"),
    "selected": RUN_LAYOUT.file("selected"),
    "importance": per_round("importance"),
    "eliminated": per_round("eliminated"),
    "metrics": per_round("metrics"),
}


def report_table_paths():
    return [RUN_LAYOUT.table(name) for name in TABLES]


def workbook_inputs(wildcards):
    paths = {
        **{key: value(wildcards) if callable(value) else value for key, value in RUN_TABLE_INPUTS.items()},
        "best": round_paths("best"),
        "results": round_paths("results"),
        "validation": RUN_LAYOUT.file("validation"),
        "data": SETTINGS.data.path,
    }
    if SETTINGS.excel.predictions:
        paths["predictions"] = round_paths("predictions")
    return paths


DESCRIPTION = RUN_LAYOUT.file("description")
REPORT_TEMPLATE = Path(workflow.basedir) / "workflow" / "report" / template_name(SETTINGS.rfe.repeats)
REPORT_TEXT_INPUTS = ({"rounds": RUN_LAYOUT.file("rounds"), "selected": RUN_LAYOUT.file("selected")} if REPEATS == 1
                      else {"final_summary": RUN_LAYOUT.file("final_summary"), "selected": RUN_LAYOUT.file("selected")})


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
        path = Path(RUN_LAYOUT.file("selected"))
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


def repeats_summary_inputs(wildcards):
    """Every repeat's rounds table, correlated groups and feature map, and the features of each of its rounds that
    ran (``features_<i>``, in round order)."""
    inputs = {"rounds": [b.layout.file("rounds") for b in ELIMINATIONS],
              "correlated": [b.layout.file("correlated") for b in ELIMINATIONS],
              "feature_map": [b.layout.file("feature_map") for b in ELIMINATIONS]}
    inputs |= {f"features_{i}": round_paths("features", b) for i, b in enumerate(ELIMINATIONS)}
    return inputs


def final_outputs(wildcards=None):
    """The default target: the summary, every figure, the report tables and texts, and the workbook."""
    if REPEATS > 1:
        final = BRANCHES["final"].layout
        outputs = [RUN_LAYOUT.file(k) for k in ("curve", "survival", "stability", "selected", "final_summary")]
        outputs += [final.round_file(0, k) for k in ("results", "best", "model", "predictions", "metrics")]
        outputs += [RUN_LAYOUT.plot(f.name) for f in FIGURES.REPEAT_FIGURES]
        outputs += [DESCRIPTION, *(caption_file(name) for name in figure_names())]
        return outputs + [RUN_LAYOUT.file("workbook")]
    outputs = [RUN_LAYOUT.file("rounds"), RUN_LAYOUT.file("selected")]
    outputs += [path for r in ran_rounds() for path in round_figure_paths(r)]
    outputs += summary_figure_paths()
    outputs += report_table_paths()
    outputs += [DESCRIPTION, *(caption_file(name) for name in figure_names())]
    outputs.append(RUN_LAYOUT.file("workbook"))
    return outputs
