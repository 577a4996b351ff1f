# For people, at the end of a run: the Excel workbook, CSV copies of the key tables for `snakemake --report`
# (which shows images and files, not Parquet), and the report's texts (its front page and the figures' captions).

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
        top_configs=SETTINGS.excel.top_configs,
        methods=[m.name for m in METHODS],
        predictions=SETTINGS.excel.predictions,
        run_dir=lambda wc, output: str(Path(output[0]).parent),
        code=script_code("workbook"),
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: int((600 + (3 * DATA_MB if SETTINGS.excel.predictions else 0)) * attempt),
        runtime=10,
    conda:
        ENV_REPORT
    script:
        "../scripts/workbook.py"


rule report_texts:
    input:
        rounds=f"{RUN}/summary/rounds.parquet",
        selected=f"{RUN}/summary/selected.parquet",
    output:
        description=DESCRIPTION,
        captions=[caption_file(name) for name in figure_names()],
    log:
        f"{RUN}/logs/report_texts.log",
    params:
        template=file_hash(Path(workflow.basedir) / "workflow" / "report" / "workflow.rst"),  # rerun when it changes
        names=figure_names(),
        facts=run_facts(SETTINGS, PLAN, SEARCH, BUDGET_WHY),
        run_dir=lambda wc, output: str(Path(output.description).parents[1]),
        code=script_code("report_texts"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV_REPORT
    script:
        "../scripts/report_texts.py"
