"""Accounts own everything; API keys and the account password are their credentials."""
