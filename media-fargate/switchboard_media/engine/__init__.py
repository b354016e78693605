"""The media engine: legs, the 1:1 bridge (pass-through or decoded), audio graphs (mixing) and the node's tick.

`seams` is the only module that touches aiortc internals; everything else composes aiortc's public pieces.
"""
