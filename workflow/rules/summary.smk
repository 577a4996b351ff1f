# After the rounds: the summary across rounds and the selected feature set.


rule summarize:
    input:
        features=per_round("features.parquet"),
        best=per_round("hpo/best.parquet"),
        metrics=per_round("eval/metrics.parquet"),
        importance=per_round("importance/importance.parquet"),
        eliminated=per_round("eliminated.parquet"),
        results=per_round("hpo/results.parquet"),
        decisions=per_round("stop.parquet") if STOP else [],
    output:
        rounds=f"{RUN}/summary/rounds.parquet",
        selected=f"{RUN}/summary/selected.parquet",
    log:
        f"{RUN}/logs/summarize.log",
    params:
        select=SETTINGS.rfe.select,
        search=SEARCH.to_params(),
        planned_rounds=len(ROUNDS),
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
