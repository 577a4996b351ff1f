# For people, at the end of a run: the Excel workbook and CSV copies of the key tables for
# `snakemake --report` (which shows images and files, not Parquet).

rule report_tables:
    input:
        **RUN_TABLE_INPUTS,
    output:
        **{
            name: report(
                f"{RUN}/tables/{name}.csv",
                caption="../report/table.rst",
                category="Across rounds",
                subcategory="Tables",
                labels={"table": label, "file": f"{name}.csv"},
            )
            for name, label in TABLES.items()
        },
    log:
        f"{RUN}/logs/report_tables.log",
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
            f"{RUN}/report.xlsx",
            caption="../report/workbook.rst",
            category="Across rounds",
            subcategory="Tables",
            labels={"table": "Excel workbook (every table)", "file": "report.xlsx"},
        ),
    log:
        f"{RUN}/logs/workbook.log",
    params:
        config=config,
        top_configs=config["excel"]["top_configs"],
        predictions=config["excel"]["predictions"],
        run_dir=lambda wc, output: str(Path(output[0]).parent),
        code=script_code("workbook"),
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: int((600 + (3 * DATA_MB if config["excel"]["predictions"] else 0)) * attempt),
        runtime=10,
    conda:
        ENV_REPORT
    script:
        "../scripts/workbook.py"
