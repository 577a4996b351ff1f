# Recursive feature elimination for tabular regression.
#
#   snakemake -j 8 --configfile config/round.yaml        # run (or resume) the pipeline
#   snakemake -n --configfile config/round.yaml          # plan: every job of every round
#   snakemake --report report.html --configfile config/round.yaml
#
# The logic lives in rfe_lib/ (importable, tested); workflow/scripts/ are thin adapters.

from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/rounds.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/report_texts.smk"


# A run draws its rounds' figures and tables; a repeated run (rfe.repeats > 1) summarizes across its repeats instead.
if REPEATS == 1:

    include: "workflow/rules/figures.smk"
    include: "workflow/rules/report.smk"

else:

    include: "workflow/rules/repeats.smk"



report: report_description()


# Bookkeeping jobs that take a second: on a cluster they run on the head node instead of waiting in
# the queue (locally this changes nothing). The eliminate_<r> rules say so themselves (rounds.smk).
localrules:
    all,
    summarize,
    report_texts,


rule all:
    input:
        final_outputs,
    default_target: True
