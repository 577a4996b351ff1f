# A repeated run (rfe.repeats > 1): the repeats are runs of their own (results/<run>/repeat_<i>/, by the rules of
# rounds.smk and summary.smk with their branch wildcard). Across them: the outer curve, the chosen size, stability
# and the consensus set; then the final model (results/<run>/final/: the consensus set searched and fitted on every
# non-test row by the same hpo_shard and train_model rules, tested once); the answer in one row, its figures, the
# workbook and the report's texts.

FINAL = BRANCHES["final"]


rule repeats_summary:
    input:
        unpack(repeats_summary_inputs),
    output:
        curve=RUN_LAYOUT.file("curve"),
        survival=RUN_LAYOUT.file("survival"),
        stability=RUN_LAYOUT.file("stability"),
        selected=RUN_LAYOUT.file("selected"),
        features=FINAL.layout.round_file(0, "features"),
        feature_map=FINAL.layout.file("feature_map"),
    log:
        RUN_LAYOUT.log("repeats_summary"),
    params:
        select=SETTINGS.rfe.select,
        code=script_code("repeats_summary"),
    localrule: True
    priority: CHAIN_PRIORITY
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/repeats_summary.py"


rule final_summary:
    input:
        curve=RUN_LAYOUT.file("curve"),
        selected=RUN_LAYOUT.file("selected"),
        stability=RUN_LAYOUT.file("stability"),
        metrics=FINAL.layout.round_file(0, "metrics"),
    output:
        RUN_LAYOUT.file("final_summary"),
    log:
        RUN_LAYOUT.log("final_summary"),
    params:
        metric=SETTINGS.hpo.metric,
        code=script_code("final_summary"),
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/final_summary.py"


rule figures_repeats:
    input:
        curve=RUN_LAYOUT.file("curve"),
        survival=RUN_LAYOUT.file("survival"),
        stability=RUN_LAYOUT.file("stability"),
        final_summary=RUN_LAYOUT.file("final_summary"),
        rounds=[b.layout.file("rounds") for b in ELIMINATIONS],
        final_predictions=FINAL.layout.round_file(0, "predictions"),
        final_metrics=FINAL.layout.round_file(0, "metrics"),
    output:
        **{
            f.name: report(
                RUN_LAYOUT.plot(f.name),
                caption=caption(f.name),
                category="Across repeats",
                subcategory=f.subcategory,
                labels={"figure": f.title},
            )
            for f in FIGURES.REPEAT_FIGURES
        },
    log:
        RUN_LAYOUT.log("figures_repeats"),
    params:
        options=FIGURES.pick(FIGURES.summary_options(SETTINGS, methods_title(METHODS)), FIGURES.REPEAT_FIGURES),
        dpi=SETTINGS.plots.dpi,
        code=script_code("figures"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV_PLOT
    script:
        "../scripts/figures.py"


rule workbook_repeats:
    input:
        final_summary=RUN_LAYOUT.file("final_summary"),
        selected=RUN_LAYOUT.file("selected"),
        curve=RUN_LAYOUT.file("curve"),
        stability=RUN_LAYOUT.file("stability"),
        rounds=[b.layout.file("rounds") for b in ELIMINATIONS],
        metrics=FINAL.layout.round_file(0, "metrics"),
        results=FINAL.layout.round_file(0, "results"),
        best=FINAL.layout.round_file(0, "best"),
        validation=RUN_LAYOUT.file("validation"),
        data=SETTINGS.data.path,
    output:
        report(
            RUN_LAYOUT.file("workbook"),
            caption="../report/workbook.rst",
            category="Across repeats",
            subcategory="Tables",
            labels={"table": "Excel workbook (every table)", "file": "report.xlsx"},
        ),
    log:
        RUN_LAYOUT.log("workbook"),
    params:
        config=config,
        run_dir=lambda wc: RUN_LAYOUT.root,
        weights=SETTINGS.data.weight_column,
        code=script_code("workbook_repeats"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV_REPORT
    script:
        "../scripts/workbook_repeats.py"
