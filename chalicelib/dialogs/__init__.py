"""Dialogs: a parent call bridged with a child call (a new call or another existing one), never a third party.

Reference §2.7-2.8 (operations), §3 (`Dialog`, `DialogLogResponse`, requests) and §4 (DIALOG_* events). The record
and its events live here; the bridge is made on the media node that has the parent (`switchboard_media.dialogs`).
"""
