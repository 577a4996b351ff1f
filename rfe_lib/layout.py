"""Where every artifact of a run lives: the one place an artifact path is spelled.

A run's artifacts sit under ``results/<run_name>/``; the rules, the scripts' library code, the tests and the bench
ask a :class:`Layout` for them, so a path changes here and nowhere else. A path is a function of the run, the round
``r`` and the shard ``s`` (and of the rung ``g`` of a search). Each of them may be an int, or a wildcard such as
``"{r}"`` when a rule declares a pattern::

    >>> run = Layout("results/example")
    >>> run.file("rounds")
    'results/example/summary/rounds.parquet'
    >>> run.round_file(3, "best")
    'results/example/round_003/hpo/best.parquet'
    >>> run.hpo_shard("{r}", 1, "{s}")
    'results/example/round_{r}/hpo/rung_1/shard_{s}.parquet'
    >>> run.repeat(2).round_file(0, "features")
    'results/example/repeat_002/round_000/features.parquet'

A Layout whose root is a :class:`pathlib.Path` gives paths (the tests' and the bench's use); one whose root is a
string gives strings (the rules'). Nothing here touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

RESULTS = "results"

# Artifacts of the whole run, relative to its folder.
RUN_FILES = {
    "validation": "data/validation.parquet",    # the data file's check
    "table": "data/features.parquet",           # the engineered table
    "feature_map": "data/feature_map.parquet",  # feature -> model columns
    "correlated": "data/correlated.parquet",    # correlated-feature groups
    "split": "split/indices.parquet",           # set and fold of every row
    "rounds": "summary/rounds.parquet",         # one row per round
    "selected": "summary/selected.parquet",     # the selected round's features (with repeats: the consensus set)
    # With rfe.repeats > 1, across the repeats (each repeat is a run of its own under repeat_<i>/):
    "curve": "summary/curve.parquet",           # the outer curve: validation loss per size over the repeats
    "stability": "summary/stability.parquet",   # per feature: survival share at the chosen size, consensus
    "survival": "summary/survival.parquet",     # per feature and size: survival share
    "final_summary": "summary/final.parquet",   # the chosen size, the curve's estimate and the final test loss
    "workbook": "report.xlsx",
    "description": "report/description.rst",    # the HTML report's front page
}

# Artifacts of one round, relative to the round's folder.
ROUND_FILES = {
    "features": "features.parquet",             # the round's feature set (written by the round before)
    "results": "hpo/results.parquet",           # every configuration's CV losses, merged from the shards
    "best": "hpo/best.parquet",                 # the chosen configuration
    "model": "model/model.joblib",              # the best configuration refitted on the training rows
    "predictions": "model/predictions.parquet",
    "metrics": "eval/metrics.parquet",          # per set: train, val, test
    "importance": "importance/importance.parquet",
    "eliminated": "eliminated.parquet",
    "decision": "stop.parquet",                 # early stopping's decision (rfe.stop)
}


def _number(value, width: int) -> str:
    """``value`` zero-padded to ``width`` digits, or a wildcard (``"{r}"``) as it is."""
    if isinstance(value, str) and not value.isdigit():
        return value
    return f"{int(value):0{width}d}"


def round_of(path) -> int:
    """The round an artifact path belongs to: its innermost ``round_<r>`` folder (a run's name may hold anything)."""
    for part in reversed(PurePath(path).parts[:-1]):
        if len(part) == 9 and part.startswith("round_") and part[6:].isdigit():
            return int(part[6:])
    raise ValueError(f"{path} is not inside a round's folder")


@dataclass(frozen=True)
class Layout:
    """The artifact paths of one run, under ``root`` (``results/<run_name>``)."""

    root: str | PurePath

    @classmethod
    def of(cls, run_name: str, results: str | PurePath = RESULTS) -> Layout:
        """The layout of run ``run_name`` under ``results`` (a path relative to the working directory by default)."""
        root = results / run_name if isinstance(results, PurePath) else f"{results}/{run_name}"
        return cls(root)

    # --- the branches of a repeated run (rfe.repeats > 1), each in the layout of a run
    @staticmethod
    def repeat_name(i) -> str:
        return f"repeat_{_number(i, 3)}"

    def repeat(self, i) -> Layout:
        """Repeat ``i`` of the elimination: a run of its own."""
        return self.branch(self.repeat_name(i))

    def final(self) -> Layout:
        """The final model of a repeated run (the consensus set searched and fitted on every non-test row): its
        round 0 holds the search, the model, its predictions and metrics."""
        return self.branch("final")

    def branch(self, name: str) -> Layout:
        """The folder ``name`` (a repeat's, ``final``, or a wildcard such as ``"{branch}"``) as a run of its own."""
        return Layout(self.path(name))

    def path(self, rel: str):
        """``rel`` under the run's folder."""
        return self.root / rel if isinstance(self.root, PurePath) else f"{self.root}/{rel}"

    # --- the run
    def file(self, key: str):
        """A run-level artifact by its key in :data:`RUN_FILES`."""
        return self.path(RUN_FILES[key])

    # --- a round
    def round_dir(self, r):
        return self.path(f"round_{_number(r, 3)}")

    def round_file(self, r, key: str):
        """An artifact of round ``r`` by its key in :data:`ROUND_FILES`."""
        return self.path(f"round_{_number(r, 3)}/{ROUND_FILES[key]}")

    def hpo_shard(self, r, g, s):
        """Shard ``s`` of rung ``g`` of round ``r``'s search (rung 0's directly under ``hpo/``)."""
        rung = "" if g == 0 else f"rung_{g}/"
        return self.path(f"round_{_number(r, 3)}/hpo/{rung}shard_{_number(s, 2)}.parquet")

    def importance_shard(self, r, s):
        return self.path(f"round_{_number(r, 3)}/importance/shard_{_number(s, 2)}.parquet")

    @staticmethod
    def hpo_job(g, s) -> str:
        """The name of the job that writes :meth:`hpo_shard` ``(r, g, s)``: its log's and benchmark file's name."""
        return f"hpo_shard_{_number(s, 2)}" if g == 0 else f"hpo_rung_{g}_shard_{_number(s, 2)}"

    # --- figures, tables and texts for people
    def plot(self, name: str, r=None):
        """The PNG of figure ``name``: of round ``r``, or of the summary across rounds when ``r`` is None."""
        folder = "summary" if r is None else f"round_{_number(r, 3)}"
        return self.path(f"plots/{folder}/{name}.png")

    def table(self, name: str):
        """A CSV copy of a key table, for ``snakemake --report``."""
        return self.path(f"tables/{name}.csv")

    def caption(self, name: str):
        return self.path(f"report/captions/{name}.rst")

    # --- logs and Snakemake benchmark files
    def log(self, job: str, r=None):
        """The log of ``job`` (of round ``r``, if given)."""
        return self.path(f"logs/{job}.log" if r is None else f"logs/round_{_number(r, 3)}/{job}.log")

    def benchmark(self, job: str, r=None):
        """Snakemake's benchmark file of ``job`` (of round ``r``, if given): wall time and peak memory."""
        return self.path(f"benchmarks/{job}.tsv" if r is None else f"benchmarks/round_{_number(r, 3)}/{job}.tsv")

    # --- folders that are read whole
    @property
    def plots_dir(self):
        return self.path("plots")

    @property
    def logs_dir(self):
        return self.path("logs")

    @property
    def benchmarks_dir(self):
        return self.path("benchmarks")

    @property
    def captions_dir(self):
        return self.path("report/captions")
