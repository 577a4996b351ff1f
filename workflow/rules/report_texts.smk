# The report's texts: its front page (the selected round, or a repeated run's answer) and every figure's caption.

rule report_texts:
    input:
        **REPORT_TEXT_INPUTS,
    output:
        description=DESCRIPTION,
        captions=[caption_file(name) for name in figure_names()],
    log:
        RUN_LAYOUT.log("report_texts"),
    params:
        template=file_hash(REPORT_TEMPLATE),  # rerun when it changes
        names=figure_names(),
        facts=run_facts(SETTINGS, PLAN, SEARCH, BUDGET_WHY),  # with repeats, the repeated run's template (rfe_lib.report.texts)
        run_dir=lambda wc: RUN_LAYOUT.root,
        code=script_code("report_texts"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV_REPORT
    script:
        "../scripts/report_texts.py"
