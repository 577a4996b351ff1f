# Before the rounds: validation, the split, feature engineering.


rule validate_data:
    input:
        data=SETTINGS.data.path,
    output:
        RUN_LAYOUT.file("validation"),
    log:
        RUN_LAYOUT.log("validate_data"),
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
        validation=RUN_LAYOUT.file("validation"),
    output:
        LAYOUT.file("split"),
    log:
        LAYOUT.log("split_data"),
    params:
        target=SETTINGS.data.target,
        weight=SETTINGS.data.weight_column,
        split=lambda wc: B(wc).settings.split.to_dict(),
        final=lambda wc: B(wc).final,  # the final model of a repeated run: every non-test row trains
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
        validation=RUN_LAYOUT.file("validation"),
        split=LAYOUT.file("split"),
    output:
        table=LAYOUT.file("table"),
        feature_map=LAYOUT.file("feature_map"),
        correlated=LAYOUT.file("correlated"),
        features=LAYOUT.round_file(0, "features"),
    log:
        LAYOUT.log("engineer_features"),
    wildcard_constraints:
        **REPEAT_BRANCH,
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
