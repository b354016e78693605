"""Infobip's Subscriptions API (`/subscriptions/1/...`), the subset for VOICE_VIDEO: subscriptions, notification
profiles (webhook, timeouts, headers) and security settings (none, BASIC, HMAC)."""
