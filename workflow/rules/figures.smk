# Figures, from the registry (rfe_lib/figures/registry.py). A round's figures are drawn by one job (FIGURE_JOBS in
# common.smk), every PNG a declared output, and the rounds' jobs run in parallel under -j. Rounds that do not have
# the same figures (the last rounds may have fewer top features) get a rule of their own, so each rule's outputs are
# exactly its rounds' PNGs. A figure job imports numpy, pyarrow and matplotlib only (no pandas, no scikit-learn).
#
# Every figure job is in the job group FIGURE_JOB_GROUP, whatever its rule is called in a given run: locally
# Snakemake ignores groups (a dry run lists them), on a cluster profiles/slurm bundles them a few per SLURM job
# (group-components). Runs with early stopping have no group (common.smk says why).

for group in FIGURE_GROUPS:

    rule:
        name:
            group.rule
        input:
            unpack(figure_inputs(group)),
        output:
            **{
                name: report(
                    LAYOUT.plot(name, "{r}"),
                    caption=caption(name),
                    category=round_category,
                    subcategory=FIGURES.figure(name)[0].subcategory,
                    labels=lambda wc, name=name: {
                        "round": str(int(wc.r)),
                        "figure": FIGURES.title(name),
                    },
                )
                for name in group.names
            },
        log:
            LAYOUT.log("figures" if group.family == "round" else f"figures_{group.family}", "{r}"),
        params:
            options=figure_options(group),
            dpi=SETTINGS.plots.dpi,
            code=script_code("figures"),
        wildcard_constraints:
            r="|".join(f"{r:03d}" for r in group.rounds),
        group:
            FIGURE_JOB_GROUP
        threads: 1
        resources:
            mem_mb=PLOT_MEM_MB,
            runtime=10,
        conda:
            ENV_PLOT
        script:
            "../scripts/figures.py"


rule figures_summary:
    input:
        unpack(summary_figure_inputs),
    output:
        **{
            f.name: report(
                LAYOUT.plot(f.name),
                caption=caption(f.name),
                category="Across rounds",
                subcategory=f.subcategory,
                labels={"figure": f.title},
            )
            for f in SUMMARY_FIGURES
        },
    log:
        LAYOUT.log("figures_summary"),
    group:
        FIGURE_JOB_GROUP
    params:
        options=SUMMARY_FIGURE_OPTIONS,
        dpi=SETTINGS.plots.dpi,
        code=script_code("figures"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        ENV_PLOT
    script:
        "../scripts/figures.py"
