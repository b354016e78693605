"""The media benchmark (`python -m bench media`): the media engine against the stock aiortc baseline.

`run` orchestrates (through `processes`, one fresh node and one load-generator process per measurement, placed by
`cores`); `stock` (the baseline node) and `node` (the real media node) run on core 0; `load` is the load generator on
core 1, built from `client` (light legs that never encode or decode), `drivers` (how each node hands out media
sessions) and `probe` (mouth-to-ear delay); `spec` is what a load run is asked to do; `metrics` and `report` compute
and print.
"""
