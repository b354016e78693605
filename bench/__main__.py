"""`python -m bench` runs every benchmark (see `make bench`)."""

from bench import pipeline

pipeline.main()
