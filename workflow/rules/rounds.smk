# One RFE round r: sharded HPO -> sharded importance -> elimination, which writes the next round's features; the
# round's final model and its evaluation run beside the importance jobs (and with a grid of one configuration the
# importance jobs run beside the HPO shards: they know the best parameters from the start). Every consumer of the search merges its
# shards itself (a cheap read), so no bookkeeping job stands between a round's fitting jobs: the chain is
# hpo_shard -> importance_shard -> eliminate_<r> -> hpo_shard of round r + 1. The search strategy (SEARCH) and the
# round's importance method (METHODS[r]) reach the jobs as params. The number of rounds is fixed by the plan, so
# `snakemake -n` lists every job of every round. The chain's jobs carry CHAIN_PRIORITY (common.smk): with free
# cores, the next round starts before any figure.


# A round's search: rung 0 (every candidate; the only rung of a grid or random search) and, with successive halving
# (hpo.search: halving), the later rungs, each scoring the best of the rung before. One rule per kind of path.
for rung_rule, rung in (("hpo_shard", 0), ("hpo_rung", "{g}")):

    rule:
        name:
            rung_rule
        input:
            unpack(hpo_inputs),
        output:
            LAYOUT.hpo_shard("{r}", rung, "{s}"),
        log:
            LAYOUT.log(LAYOUT.hpo_job(rung, "{s}"), "{r}"),
        benchmark:
            LAYOUT.benchmark(LAYOUT.hpo_job(rung, "{s}"), "{r}")
        params:
            model=lambda wc: B(wc).model,
            search=lambda wc: B(wc).search.to_params(),
            rung=lambda wc: int(wc.get("g", 0)),
            folds=FOLDS,
            n_shards=lambda wc: B(wc).hpo_shards[int(wc.r)][int(wc.get("g", 0))],
            code=script_code("hpo_shard"),
        priority: CHAIN_PRIORITY
        threads: SETTINGS.hpo.threads
        resources:
            mem_mb=mem_mb(3),
            runtime=runtime_min(hpo_shard_fits),
        conda:
            ENV_MODEL
        script:
            "../scripts/hpo_shard.py"


rule train_model:
    input:
        unpack(train_inputs),
    output:
        **{key: LAYOUT.round_file("{r}", key) for key in ("results", "best", "model", "predictions", "metrics")},
    log:
        LAYOUT.log("train_model", "{r}"),
    params:
        model=lambda wc: B(wc).model,
        search=lambda wc: B(wc).search.to_params(),
        tolerances=SETTINGS.evaluation.tolerances,
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


rule importance_shard:
    input:
        unpack(importance_inputs),
    output:
        LAYOUT.importance_shard("{r}", "{s}"),
    log:
        LAYOUT.log("importance_shard_{s}", "{r}"),
    benchmark:
        LAYOUT.benchmark("importance_shard_{s}", "{r}")
    params:
        model=lambda wc: B(wc).model,
        search=lambda wc: B(wc).search.to_params(),
        method=lambda wc: B(wc).methods[int(wc.r)].to_params(),
        folds=FOLDS,
        n_shards=lambda wc: B(wc).importance_shards[int(wc.r)],
        code=script_code("importance_shard"),
    priority: CHAIN_PRIORITY
    threads: SETTINGS.importance.threads
    resources:
        mem_mb=mem_mb(3),
        runtime=runtime_min(importance_shard_fits),
    conda:
        ENV_MODEL
    script:
        "../scripts/importance_shard.py"


# Elimination writes the next round's features.parquet, so each round (of each repeat) has a rule of its own (a
# rule's outputs share its wildcards, and round r + 1 cannot be written as a wildcard of round r). With early stopping
# (rfe.stop) each is a checkpoint whose decision (round_<r>/stop.parquet) adds the next round's jobs, or not
# (ran_rounds in common.smk): no fit after a stop. A rule and a checkpoint are declared by different keywords, and
# `use rule` cannot turn one into the other (Snakemake 9 declares every rule it derives as a plain rule), hence two
# blocks; everything they declare is one definition, eliminate_job (common.smk), so they cannot drift apart.
for b in ELIMINATIONS:
    for r in b.rounds:
        job = eliminate_job(b, r)
        if not STOP:

            rule:
                name:
                    job.name
                input:
                    **job.input,
                output:
                    **job.output,
                log:
                    job.log,
                params:
                    **job.params,
                localrule: True  # bookkeeping of a second: on a cluster, the head node runs it
                priority: CHAIN_PRIORITY
                threads: 1
                resources:
                    **job.resources,
                conda:
                    ENV_MODEL
                script:
                    "../scripts/eliminate.py"

        else:

            checkpoint:
                name:
                    job.name
                input:
                    **job.input,
                output:
                    **job.output,
                log:
                    job.log,
                params:
                    **job.params,
                localrule: True
                priority: CHAIN_PRIORITY
                threads: 1
                resources:
                    **job.resources,
                conda:
                    ENV_MODEL
                script:
                    "../scripts/eliminate.py"
