"""The embedded platform: moto in server mode as the AWS, the Chalice app over HTTP, and a pump that feeds stream
records and queue messages into the same handler functions Lambda runs. `python -m infra.local` (`make run`)."""
