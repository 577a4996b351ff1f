"""Benchmark hook, active only when bench/ puts this folder on PYTHONPATH: record this process's peak RSS at exit.

Writes ``$RFE_BENCH_RSS_DIR/<pid>.json`` with the script path, the kernel's peak resident set size
(``ru_maxrss``), the process's wall seconds and the non-standard-library modules it loaded.
"""

import atexit
import json
import os
import resource
import sys
import time

_DIR = os.environ.get("RFE_BENCH_RSS_DIR")
_T0 = time.perf_counter()


def _record():
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    stdlib = sys.stdlib_module_names
    loaded = [m for m in list(sys.modules) if m.split(".")[0] not in stdlib and not m.startswith("_")]
    rec = {"argv0": sys.argv[0] if sys.argv else "", "pid": os.getpid(), "maxrss_mb": peak_kb / 1024,
           "seconds": time.perf_counter() - _T0, "modules": loaded}
    try:
        with open(os.path.join(_DIR, f"{os.getpid()}.json"), "w") as fh:
            json.dump(rec, fh)
    except OSError:
        pass


if _DIR:
    atexit.register(_record)
