# For people, at the end of a run: the Excel workbook, CSV copies of the key tables for `snakemake --report`
# (which shows images and files, not Parquet), and the report's texts (its front page and the figures' captions).

rule report_tables:
    input:
        **RUN_TABLE_INPUTS,
    output:
        **{
            name: report(
                LAYOUT.table(name),
                caption="../report/table.rst",
                category="Across rounds",
                subcategory="Tables",
                labels={"table": label, "file": f"{name}.csv"},
            )
            for name, label in TABLES.items()
        },
    log:
        LAYOUT.log("report_tables"),
    params:
        code=script_code("report_tables"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_REPORT
    script:
        "../scripts/report_tables.py"


rule workbook:
    input:
        unpack(workbook_inputs),
    output:
        report(
            LAYOUT.file("workbook"),
            caption="../report/workbook.rst",
            category="Across rounds",
            subcategory="Tables",
            labels={"table": "Excel workbook (every table)", "file": "report.xlsx"},
        ),
    log:
        LAYOUT.log("workbook"),
    params:
        config=config,
        top_configs=SETTINGS.excel.top_configs,
        methods=[m.name for m in METHODS],
        weights=SETTINGS.data.weight_column,
        predictions=SETTINGS.excel.predictions,
        run_dir=lambda wc: LAYOUT.root,
        code=script_code("workbook"),
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: int((600 + (3 * DATA_MB if SETTINGS.excel.predictions else 0)) * attempt),
        runtime=10,
    conda:
        ENV_REPORT
    script:
        "../scripts/workbook.py"
