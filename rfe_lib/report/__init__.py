"""What a run shows people: the tables shared by the Excel workbook and the Snakemake report
(:mod:`~rfe_lib.report.tables`), the provenance of a run (:mod:`~rfe_lib.report.provenance`), the workbook
(:mod:`~rfe_lib.report.workbook`, formatted by :mod:`~rfe_lib.report.excel`) and the report's texts
(:mod:`~rfe_lib.report.texts`). Every table is built from the Parquet artifacts alone, with the artifacts' own
column names, so a value in ``report.xlsx`` or in a report CSV can be checked against the file it came from.
"""
