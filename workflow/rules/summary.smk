# After the rounds: the summary across rounds and the selected feature set.


rule summarize:
    input:
        **{key: per_round(key) for key in ("features", "best", "metrics", "importance", "eliminated", "results")},
        decisions=per_round("decision") if STOP else [],
    output:
        rounds=LAYOUT.file("rounds"),
        selected=LAYOUT.file("selected"),
    log:
        LAYOUT.log("summarize"),
    params:
        select=SETTINGS.rfe.select,
        search=SEARCH.to_params(),
        planned_rounds=len(ROUNDS),
        metric=SETTINGS.hpo.metric,
        code=script_code("summarize"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/summarize.py"
