"""What happened to deliveries: the per-subscription attempt log, dead letters, and replay."""
