"""`python -m bench` runs every benchmark (see `make bench`); `python -m bench pipeline` or `media` runs one."""

import sys

from bench import pipeline
from bench.media import run as media

BENCHMARKS = {"pipeline": pipeline.main, "media": media.main}

chosen = sys.argv[1:] or list(BENCHMARKS)
if unknown := [name for name in chosen if name not in BENCHMARKS]:
    sys.exit(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
for name in chosen:
    BENCHMARKS[name]()
