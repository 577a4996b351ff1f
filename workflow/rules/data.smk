# Before the rounds: validation, the split, feature engineering.


rule validate_data:
    input:
        data=SETTINGS.data.path,
    output:
        f"{RUN}/data/validation.parquet",
    log:
        f"{RUN}/logs/validate_data.log",
    params:
        spec=SETTINGS.data_spec().to_dict(),
        code=script_code("validate_data"),
    threads: 1
    resources:
        mem_mb=mem_mb(4),
        runtime=15,
    conda:
        ENV_MODEL
    script:
        "../scripts/validate_data.py"


rule split_data:
    input:
        data=SETTINGS.data.path,
        validation=f"{RUN}/data/validation.parquet",
    output:
        f"{RUN}/split/indices.parquet",
    log:
        f"{RUN}/logs/split_data.log",
    params:
        target=SETTINGS.data.target,
        weight=SETTINGS.data.weight_column,
        split=SETTINGS.split.to_dict(),
        code=script_code("split_data"),
    threads: 1
    resources:
        mem_mb=mem_mb(1),
        runtime=15,
    conda:
        ENV_MODEL
    script:
        "../scripts/split_data.py"


rule engineer_features:
    input:
        data=SETTINGS.data.path,
        validation=f"{RUN}/data/validation.parquet",
        split=f"{RUN}/split/indices.parquet",
    output:
        table=f"{RUN}/data/features.parquet",
        feature_map=f"{RUN}/data/feature_map.parquet",
        correlated=f"{RUN}/data/correlated.parquet",
        features=f"{RUN}/round_000/features.parquet",
    log:
        f"{RUN}/logs/engineer_features.log",
    params:
        spec=SETTINGS.data_spec().to_dict(),
        correlated=SETTINGS.features.correlated,
        code=script_code("engineer_features"),
    threads: 1
    resources:
        mem_mb=mem_mb(4),
        runtime=15,
    conda:
        ENV_MODEL
    script:
        "../scripts/engineer_features.py"
