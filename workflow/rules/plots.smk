# Figures: one PNG per job, so `-j N` draws N at a time. A round's plot jobs import numpy, pyarrow and
# matplotlib only (rfe_lib/plots.py, rfe_lib/columns.py; no pandas); which figures a round has is fixed
# at parse time (rfe_lib/plots_catalog.py).

rule plot_round:
    input:
        unpack(round_plot_inputs),
    output:
        report(
            f"{PLOT_DIR}/round_{{r}}/{{plot}}.png",
            caption="../report/plot_round.rst",
            category=round_plot_category,
            subcategory=lambda wc: PLOTS.subcategory(wc.plot),
            labels=lambda wc: {"round": str(int(wc.r)), "figure": PLOTS.title(wc.plot)},
        ),
    log:
        f"{RUN}/logs/round_{{r}}/plot_{{plot}}.log",
    params:
        options=round_plot_options,
        dpi=config["plots"]["dpi"],
        code=script_code("plot_round"),
    wildcard_constraints:
        plot=PLOTS.round_plot_pattern(config["hpo"]["grid"]),
    threads: 1
    resources:
        mem_mb=PLOT_MEM_MB,
        runtime=10,
    conda:
        ENV_PLOT
    script:
        "../scripts/plot_round.py"


rule plot_summary:
    input:
        unpack(summary_plot_inputs),
    output:
        report(
            f"{PLOT_DIR}/summary/{{plot}}.png",
            caption="../report/plot_summary.rst",
            category="Across rounds",
            subcategory="Figures",
            labels=lambda wc: {"figure": PLOTS.title(wc.plot)},
        ),
    log:
        f"{RUN}/logs/plot_summary_{{plot}}.log",
    params:
        options={**PLOT_TARGET, "metric": config["hpo"]["metric"]},
        dpi=config["plots"]["dpi"],
        code=script_code("plot_summary"),
    wildcard_constraints:
        plot=PLOTS.summary_plot_pattern(),
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        ENV_PLOT
    script:
        "../scripts/plot_summary.py"
