"""Recordings of calls, conferences and dialogs: files recorded by the media node and stored in S3, their records,
reads, ranged downloads, deletion with tombstones, and on-demand composition."""
