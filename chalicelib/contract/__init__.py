"""The control-plane ↔ media-plane contract: what both sides must agree on, importable by either.

Pure Python and pydantic only: no AWS, no aiortc, no settings. Keys and clocks are passed in.
"""

CONTRACT_VERSION = 1
