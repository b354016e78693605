"""Operator command: `python -m chalicelib.accounts create --name Acme` (AWS credentials and the stage's
SWITCHBOARD_* variables in the environment), also `add-key` and `revoke-key`. Prints what it created; the key is
shown only here."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from chalicelib.accounts import service
from chalicelib.core.errors import AppError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an account with a first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--username", help="user name for Basic auth (default: the name, lower-cased)")
    create.add_argument("--password-stdin", action="store_true", help="read a Basic-auth password from stdin")
    create.add_argument("--prompt-password", action="store_true", help="prompt for a Basic-auth password")
    add_key = commands.add_parser("add-key", help="issue another API key")
    add_key.add_argument("--account", required=True)
    add_key.add_argument("--name", default="operator")
    revoke = commands.add_parser("revoke-key", help="revoke an API key by id")
    revoke.add_argument("--account", required=True)
    revoke.add_argument("--key-id", required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "create":
            password = None
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            elif args.prompt_password:
                password = getpass.getpass("Password: ")
            username = args.username or "".join(ch for ch in args.name.lower() if ch.isalnum() or ch in "_.-@")
            created = service.create_account(args.name, username, password)
            output = {"account": created.account.model_dump(), "apiKey": created.api_key.model_dump(mode="json")}
        elif args.command == "add-key":
            output = service.issue_api_key(args.account, args.name).model_dump(mode="json")
        else:
            output = service.revoke_api_key(args.account, args.key_id).model_dump(mode="json")
    except AppError as error:
        print(f"error: {error.text}", file=sys.stderr)
        return 1
    print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
