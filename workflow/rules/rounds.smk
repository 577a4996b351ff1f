# One RFE round r: features -> sharded HPO -> best model -> evaluation -> sharded importance -> elimination.
# The search strategy (SEARCH) and the round's importance method (METHODS[r]) reach the jobs as params.
# The rounds form a static chain (round r's features come from round r-1's elimination), and the
# number of rounds is fixed by the plan, so `snakemake -n` lists every job of every round. The chain's
# jobs carry CHAIN_PRIORITY (common.smk): with free cores, the next round starts before any figure.


rule round_features:
    input:
        unpack(round_inputs),
    output:
        f"{RUN}/round_{{r}}/features.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/round_features.log",
    params:
        code=script_code("round_features"),
    priority: CHAIN_PRIORITY
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/round_features.py"


rule hpo_shard:
    input:
        table=f"{RUN}/data/features.parquet",
        feature_map=f"{RUN}/data/feature_map.parquet",
        split=f"{RUN}/split/indices.parquet",
        features=f"{RUN}/round_{{r}}/features.parquet",
    output:
        f"{RUN}/round_{{r}}/hpo/shard_{{s}}.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/hpo_shard_{{s}}.log",
    benchmark:
        f"{RUN}/benchmarks/round_{{r}}/hpo_shard_{{s}}.tsv"
    params:
        model=MODEL,
        search=SEARCH.to_params(),
        folds=FOLDS,
        n_shards=HPO_SHARDS,
        code=script_code("hpo_shard"),
    priority: CHAIN_PRIORITY
    threads: SETTINGS.hpo.threads
    resources:
        mem_mb=mem_mb(3),
        runtime=runtime_min(-(-PLAN.n_configs // HPO_SHARDS) * FOLDS),
    conda:
        ENV_MODEL
    script:
        "../scripts/hpo_shard.py"


rule hpo_merge:
    input:
        hpo_shard_paths,
    output:
        results=f"{RUN}/round_{{r}}/hpo/results.parquet",
        best=f"{RUN}/round_{{r}}/hpo/best.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/hpo_merge.log",
    params:
        search=SEARCH.to_params(),
        code=script_code("hpo_merge"),
    priority: CHAIN_PRIORITY
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV_MODEL
    script:
        "../scripts/hpo_merge.py"


rule train_model:
    input:
        table=f"{RUN}/data/features.parquet",
        feature_map=f"{RUN}/data/feature_map.parquet",
        split=f"{RUN}/split/indices.parquet",
        features=f"{RUN}/round_{{r}}/features.parquet",
        best=f"{RUN}/round_{{r}}/hpo/best.parquet",
    output:
        model=f"{RUN}/round_{{r}}/model/model.joblib",
        predictions=f"{RUN}/round_{{r}}/model/predictions.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/train_model.log",
    params:
        model=MODEL,
        code=script_code("train_model"),
    priority: RESULT_PRIORITY
    threads: SETTINGS.hpo.threads
    resources:
        mem_mb=mem_mb(4),
        runtime=runtime_min(1),
    conda:
        ENV_MODEL
    script:
        "../scripts/train_model.py"


rule evaluate:
    input:
        f"{RUN}/round_{{r}}/model/predictions.parquet",
    output:
        f"{RUN}/round_{{r}}/eval/metrics.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/evaluate.log",
    params:
        tolerances=SETTINGS.evaluation.tolerances,
        angle_unit=SETTINGS.target_angle,
        code=script_code("evaluate"),
    priority: RESULT_PRIORITY
    threads: 1
    resources:
        mem_mb=mem_mb(1),
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/evaluate.py"


rule importance_shard:
    input:
        table=f"{RUN}/data/features.parquet",
        feature_map=f"{RUN}/data/feature_map.parquet",
        split=f"{RUN}/split/indices.parquet",
        features=f"{RUN}/round_{{r}}/features.parquet",
        best=f"{RUN}/round_{{r}}/hpo/best.parquet",
    output:
        f"{RUN}/round_{{r}}/importance/shard_{{s}}.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/importance_shard_{{s}}.log",
    benchmark:
        f"{RUN}/benchmarks/round_{{r}}/importance_shard_{{s}}.tsv"
    params:
        model=MODEL,
        method=lambda wc: METHODS[int(wc.r)].to_params(),
        metric=SETTINGS.hpo.metric,
        folds=FOLDS,
        n_shards=lambda wc: IMPORTANCE_SHARDS[int(wc.r)],
        code=script_code("importance_shard"),
    priority: CHAIN_PRIORITY
    threads: SETTINGS.importance.threads
    resources:
        mem_mb=mem_mb(3),
        runtime=runtime_min(lambda wc: METHODS[int(wc.r)].fits(
            -(-PLAN.schedule[int(wc.r)] // IMPORTANCE_SHARDS[int(wc.r)]), FOLDS, 1)),
    conda:
        ENV_MODEL
    script:
        "../scripts/importance_shard.py"


rule importance_merge:
    input:
        shards=importance_shard_paths,
        best=f"{RUN}/round_{{r}}/hpo/best.parquet",
        features=f"{RUN}/round_{{r}}/features.parquet",
    output:
        f"{RUN}/round_{{r}}/importance/importance.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/importance_merge.log",
    params:
        code=script_code("importance_merge"),
    priority: CHAIN_PRIORITY
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/importance_merge.py"


rule eliminate:
    input:
        f"{RUN}/round_{{r}}/importance/importance.parquet",
    output:
        f"{RUN}/round_{{r}}/eliminated.parquet",
    log:
        f"{RUN}/logs/round_{{r}}/eliminate.log",
    params:
        k=lambda wc: PLAN.eliminate[int(wc.r)],
        code=script_code("eliminate"),
    priority: CHAIN_PRIORITY
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV_MODEL
    script:
        "../scripts/eliminate.py"
