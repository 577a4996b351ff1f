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
    wildcard_constraints:
        **REPEAT_BRANCH,
    params:
        select=SETTINGS.rfe.select,
        search=lambda wc: B(wc).search.to_params(),
        planned_rounds=lambda wc: len(B(wc).rounds),
        metric=SETTINGS.hpo.metric,
        code=script_code("summarize"),
        **({"budget": BUDGET_WHY} if BUDGET_WHY else {}),  # the time box's choice, in selected.parquet
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/summarize.py"
