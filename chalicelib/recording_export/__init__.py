"""Recording export: an account's SFTP destination (`/accounts/1/recording-export/sftp`) and the worker that pushes
each finished recording file there as a zip (the media file plus a JSON metadata file), then removes it from S3.

The recordings domain plugs in through two small seams in `exporter`: `ExportableFile` (what to send) and
`RecordingFiles` (how to load a file, report the export's status, and delete the stored media). The worker's entry
point is `exporter.handle(event, files)` for an SQS batch of `{"accountId", "fileId"}` messages.
"""
