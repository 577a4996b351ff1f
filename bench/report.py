"""Tables of the benchmark results (``bench/out/<mode>/*.json``), written into ``docs/benchmarks.md``.

Each table is a block between ``<!-- bench:<section>:<mode> -->`` markers; ``python -m bench report`` rewrites the
blocks whose results are present and leaves everything else in the file, the hand-written reading included.
"""

from __future__ import annotations

from .common import REPO, load

DOC = REPO / "docs" / "benchmarks.md"


def _load_line(rec) -> str:
    m = rec["machine"]
    return f"*Section finished {m['date']}; load then: {m['uptime']}.*"


def _machine(rec) -> str:
    m = rec["machine"]
    v = ", ".join(f"{k} {x}" for k, x in m["versions"].items())
    return (f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}; "
            f"Python {m['python']}; {v}.")


def _hpo(rec) -> list[str]:
    rows = rec["rows"]
    base = rows[0]["peak_rss_mb"]
    r0 = rows[0]
    out = [f"### HPO shard vs grid size ({r0['rows']:,} rows x {r0['columns']} columns, Ridge, 5 folds, 8 shards)", "",
           "| configurations in grid | in the measured shard | peak RSS (MB) | vs smallest | job time (s) | job s per fit |",
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['configs']:,} | {r['shard_configs']:,} | {r['peak_rss_mb']:.0f} | "
                   f"{100 * (r['peak_rss_mb'] / base - 1):+.1f}% | {r['job_seconds']:.1f} | {r['seconds_per_fit']:.4f} |")
    big = rows[-1]["peak_rss_mb"]
    ok = big <= 1.1 * base
    out += ["", f"Target (peak at {rows[-1]['configs']:,} configurations within 10% of that at {rows[0]['configs']:,}): "
            f"{big:.0f} MB vs {base:.0f} MB: **{'met' if ok else 'NOT met'}**. "
            f"The engineered table is {r0['table_mb']:.0f} MB. {_load_line(rec)}", ""]
    return out


def _lofo(rec) -> list[str]:
    rows = rec["rows"]
    main = [r for r in rows if r["shard_features"] <= rows[0]["shard_features"]]
    extra = [r for r in rows if r not in main]
    r0 = main[0]
    base = r0["peak_rss_mb"] - r0["table_mb"]
    out = [f"### LOFO shard vs feature count ({r0['rows']:,} rows, HistGradientBoosting max_iter=20 without early "
           "stopping, 5 folds)", "",
           "| features | model columns | features scored by the shard | table (MB) | train matrix (MB) | peak RSS (MB) "
           "| peak - table (MB) | job time (s) | s per feature |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in main + extra:
        out.append(f"| {r['features']:,} | {r['columns']:,} | {r['shard_features']} | {r['table_mb']:.0f} | "
                   f"{r['train_matrix_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] - r['table_mb']:.0f} | "
                   f"{r['job_seconds']:.1f} | {r['seconds_per_feature']:.1f} |")
    last = main[-1]
    limit = 1.1 * r0["peak_rss_mb"] + last["table_mb"]
    ok = last["peak_rss_mb"] <= limit
    out += ["", f"Target (peak at {last['features']:,} features within 10% of that at {r0['features']} plus the data's "
            f"own size, the engineered float64 table of {last['table_mb']:.0f} MB): {last['peak_rss_mb']:.0f} MB vs "
            f"1.1 x {r0['peak_rss_mb']:.0f} + {last['table_mb']:.0f} = {limit:.0f} MB: **{'met' if ok else 'NOT met'}**. "
            f"Stricter, the peak beyond the table: {last['peak_rss_mb'] - last['table_mb']:.0f} MB at "
            f"{last['features']:,} features vs {base:.0f} MB at {r0['features']}."]
    if extra:
        e = extra[0]
        same = [r for r in main if r["features"] == e["features"]][0]
        out.append(f"A shard scoring {e['shard_features']} features instead of {same['shard_features']} "
                   f"(same {e['features']} features): {e['peak_rss_mb']:.0f} MB vs {same['peak_rss_mb']:.0f} MB.")
    out += [_load_line(rec), ""]
    return out


def _lofo_dummy(rec) -> list[str]:
    rows = rec["rows"]
    r0 = rows[0]
    out = ["The same LOFO shard jobs with `DummyRegressor` (it keeps nothing but a mean): the pipeline's own memory "
           "(interpreter and libraries, the training matrix, the per-fold views, the rows written).", "",
           "| features | table (MB) | train matrix (MB) | peak RSS (MB) | growth vs 50 (MB) | growth of the train matrix (MB) |",
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['features']:,} | {r['table_mb']:.0f} | {r['train_matrix_mb']:.0f} | {r['peak_rss_mb']:.0f} | "
                   f"{r['peak_rss_mb'] - r0['peak_rss_mb']:+.0f} | {r['train_matrix_mb'] - r0['train_matrix_mb']:+.0f} |")
    out += ["", _load_line(rec), ""]
    return out


def _overhead(rec, mid=None) -> list[str]:
    cases = [r for r in (rec, mid) if r]
    out = ["### Pipeline vs one Python process", "",
           "Each case is the whole workflow at `-j 2` from an empty folder, every artifact of the default target "
           "included (figures, report tables, workbook). The loop (`bench/inprocess.py`) runs the same fits "
           "(every configuration x fold, the final fit, every feature x fold) with `joblib` (n_jobs=2) and writes "
           "nothing. \"Added per round\" is (pipeline - loop) / rounds: the pipeline's cost for a round's jobs, "
           "start-up and artifacts, whatever the size of the fits.", "",
           "| case | configurations | rounds | jobs | pipeline (s) | in-process loop (s) | ratio | added per round (s) "
           "| same features selected |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in cases:
        label = r.get("case_name", "example")
        n_configs = r.get("n_configs", 4)
        rounds = r.get("rounds") or 10
        added = r.get("added_per_round", round((r["pipeline_wall"] - r["loop_wall"]) / rounds, 1))
        out.append(f"| {label} | {n_configs} | {rounds} | {r['n_jobs']} | {r['pipeline_wall']} | {r['loop_wall']} | "
                   f"**{r['ratio']:.2f}** | {added} | {r['same_selection']} |")
    out += ["", *(f"- {r.get('case_name', 'example')}: {r['case']}. {_load_line(r)}" for r in cases), "",
            "Where the example's job time goes (process lifetime of each job, start-up included; "
            f"{rec['job_seconds_total']} s in all, of which {rec['fit_seconds_in_cv']} s inside the CV fits of the "
            "shards):", "",
            "| rule | jobs | total (s) | median per job (s) |", "| --- | ---: | ---: | ---: |"]
    for rule, v in rec["by_rule"].items():
        out.append(f"| {rule} | {v['jobs']} | {v['total_s']} | {v['median_s']} |")
    out += ["", f"`snakemake -n` on the finished run (Snakemake's own start-up, parse and DAG): "
            f"{rec['snakemake_dry_run_s']} s; `python -c pass`: {rec['python_start_s']} s.", ""]
    if rec.get("slurm_probe_s") is not None:
        out += [f"With the `[slurm]` extra installed, Snakemake imports the SLURM executor plugin at every start, and "
                f"the plugin runs `scontrol show config`; on this machine (SLURM's client installed, the test "
                f"cluster not running) that took {rec['slurm_probe_s']} s. The suite answers that probe at once "
                "(`bench/_noslurm/`) so that the figures measure the pipeline.", ""]
    out += ["### Start-up cost per script", "",
            "The modules each job had loaded when it ended (lazy imports included), re-imported in a fresh "
            "interpreter after the preamble Snakemake puts in front of every `script:` job.", "",
            "| script | jobs | median job lifetime (s) | Snakemake preamble (s) | imports (s) | heavy packages loaded |",
            "| --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rec["imports"]:
        out.append(f"| {r['script']} | {r['jobs']} | {r['job_seconds_median']} | {r['preamble_s']} | {r['imports_s']} | "
                   f"{r['heavy']} |")
    out.append("")
    return out


def _short_schedule(line: str) -> str:
    """``164 -> 163 -> ... -> 3 features`` (as the workflow now prints it) for records made before it did."""
    import re

    m = re.search(r"rounds: ((?:\d+ -> )+\d+) features", line)
    if not m or m.group(1).count("->") <= 8:
        return line
    counts = m.group(1).split(" -> ")
    return line.replace(m.group(1), " -> ".join(counts[:5] + ["..."] + counts[-3:]))


def _dag(rec) -> list[str]:
    out = [f"### DAG of a long run ({rec['features']} features, step 1, {rec['shards']} HPO and {rec['shards']} "
           "LOFO shards)", "",
           "| jobs | `snakemake -n`, fresh folder (s) | `-n`, plan cached (s) | `-n -q` (s) | no-op rerun, "
           f"{rec['noop_outputs']:,} round outputs (s) | nothing to do |",
           "| ---: | ---: | ---: | ---: | ---: | --- |",
           f"| {rec['jobs']:,} | {rec['dry_run_fresh_s']} | {rec['dry_run_cached_s']} | {rec['dry_run_quiet_s']} | "
           f"{rec['noop_rerun_s']} | {rec['noop_nothing_to_do']} |", "",
           "The no-op rerun runs on a run completed with `snakemake --touch` over placeholder outputs (see "
           "`bench/dag.py`): fitting every job for real would take hours. What `snakemake -n` prints first:", "",
           "```", *(_short_schedule(line) for line in rec["plan"]), "```", _load_line(rec), ""]
    return out


def _formats(rec) -> list[str]:
    p, x = rec["parquet"], rec["xlsx"]
    return [f"### Parquet vs xlsx ({rec['rows']:,} x {rec['columns']} floats)", "",
            "| format | write (s) | read (s) | size (MB) | values read back exactly |", "| --- | ---: | ---: | ---: | --- |",
            f"| Parquet (zstd) | {p['write_s']} | {p['read_s']} | {p['mb']} | {p['exact']} |",
            f"| xlsx (openpyxl) | {x['write_s']} | {x['read_s']} | {x['mb']} | {x['exact']} |", "",
            f"xlsx is {x['write_s'] / p['write_s']:.0f}x slower to write and {x['read_s'] / p['read_s']:.0f}x slower "
            "to read: internal files are Parquet, and the one spreadsheet is the final report. " + _load_line(rec), ""]


SECTION_TABLES = {"hpo": _hpo, "lofo": _lofo, "lofo_dummy": _lofo_dummy, "overhead": _overhead, "mlxtend": None,
                  "dag": _dag, "formats": _formats}


def made_by(name: str, mode: str, with_mid: bool = False) -> str:
    """The line under a generated block that names the command which made it and where its raw output is."""
    sections = f"{name} overhead_mid" if with_mid else name
    raw = ", ".join(f"`bench/out/{mode}/{n}.json`" for n in sections.split())
    return f"*Made by `python -m bench {sections}{' --quick' if mode == 'quick' else ''}`; raw output: {raw}.*"


def blocks(mode: str) -> dict[str, list[str]]:
    """The generated blocks of one mode whose results are in ``bench/out/<mode>/``: ``{"<section>:<mode>": lines}``."""
    recs = {n: load(n, mode) for n in (*SECTION_TABLES, "overhead_mid")}
    out = {}
    first = next((r for r in recs.values() if r), None)
    if first:
        out[f"machine:{mode}"] = [_machine(first)]
    for name, fn in SECTION_TABLES.items():
        if not recs[name]:
            continue
        if name == "overhead":
            out[f"{name}:{mode}"] = fn(recs[name], recs["overhead_mid"])
        elif name == "mlxtend":
            from .versus import table

            out[f"{name}:{mode}"] = table(recs[name])
        else:
            out[f"{name}:{mode}"] = fn(recs[name])
        out[f"{name}:{mode}"] += ["", made_by(name, mode, name == "overhead" and bool(recs["overhead_mid"]))]
    return out


def _marker(key: str, end: bool = False) -> str:
    return f"<!-- {'/' if end else ''}bench:{key} -->"


def replace_block(text: str, key: str, lines: list[str]) -> str:
    """Replace the text between ``<!-- bench:KEY -->`` and ``<!-- /bench:KEY -->``; append the block if it is new."""
    begin, end = _marker(key), _marker(key, end=True)
    block = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write() -> str:
    """Rewrite the generated blocks of ``docs/benchmarks.md`` whose results are in ``bench/out/``; keep the rest.

    ``bench/out/`` is not part of the repository, so a fresh clone has none of the results: a block whose results are
    missing stays as it was measured, with its date, and the hand-written reading around the blocks is never touched.
    """
    from .cuts import table as cuts_table

    text = DOC.read_text()
    found = {}
    for mode in ("full", "quick"):
        found.update(blocks(mode))
    cuts = cuts_table()
    if cuts:
        found["cuts"] = cuts
    from .budget import tables as budget_tables

    budget = budget_tables()  # bench/out/budget/*.json
    if budget:
        found["budget"] = budget
    for key, lines in found.items():
        text = replace_block(text, key, lines)
    DOC.write_text(text)
    return text
