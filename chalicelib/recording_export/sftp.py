"""Uploading one archive to an SFTP server (asyncssh client), with the server authenticated first.

Order of a session, and why:
1. The host is resolved through the outbound policy and the session dials the address that was checked (no second
   lookup a DNS change could redirect).
2. During key exchange the server's host key is compared with the configured `SHA256:` fingerprint; nothing else
   is trusted (no known_hosts file, no certificate authorities). A different key ends the session before user
   authentication, so the password never reaches a server that is not the configured one.
3. Password authentication only: no local keys, no agent, no ssh config files are consulted.
4. The zip is written as `.<name>.part` in the destination directory and renamed into place when complete, so a
   reader on the server never sees half a zip. The rename never replaces another file: when the wanted name (a
   prefix several files share) is taken, the zip goes to its unique name (the file id's), which is replaced if it
   exists, so a retried export is idempotent and no export overwrites another's.

Every failure is one of `errors`' classes with a sentence that names what went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
from typing import IO, Any

import asyncssh

from chalicelib.core.urlpolicy import OutboundUrlRefused, resolve_allowed
from chalicelib.recording_export.errors import (
    AuthenticationFailed,
    DestinationRefused,
    ExportFailed,
    HostKeyMismatch,
    RemotePathMissing,
    TransferFailed,
    Unreachable,
)
from chalicelib.recording_export.service import SftpConnection

CONNECT_TIMEOUT_SECONDS = 15.0
LOGIN_TIMEOUT_SECONDS = 30.0
WRITE_CHUNK_BYTES = 256 * 1024


def host_key_fingerprint(key: asyncssh.SSHKey) -> str:
    """A public key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:` + unpadded base64)."""
    return str(key.get_fingerprint("sha256"))


def _trust_nothing(host: str, addr: str, port: int) -> tuple[list[Any], list[Any], list[Any]]:
    return [], [], []


class _FingerprintClient(asyncssh.SSHClient):
    """Accepts exactly the host key with the configured fingerprint; remembers what the server presented."""

    def __init__(self, expected: str):
        self.expected = expected
        self.presented: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.presented = host_key_fingerprint(key)
        return self.presented == self.expected


def _addresses(connection: SftpConnection) -> list[str]:
    try:
        return resolve_allowed(connection.host, connection.port)
    except OutboundUrlRefused as error:
        raise DestinationRefused(f"the destination is refused by the outbound policy: {error.text}") from None


def upload(connection: SftpConnection, archive: IO[bytes], remote_name: str, unique_name: str | None = None) -> str:
    """Upload `archive` as `remote_name` in the destination's directory, or as `unique_name` when `remote_name` is
    taken; returns the remote path."""
    addresses = _addresses(connection)
    names = (remote_name, unique_name or remote_name)
    return asyncio.run(_upload(connection, addresses, archive, names))


async def _upload(connection: SftpConnection, addresses: list[str], archive: IO[bytes], names: tuple[str, str]) -> str:
    client = _FingerprintClient(connection.host_key_fingerprint)
    ssh = await _connect(connection, addresses, client)
    try:
        async with ssh.start_sftp_client() as sftp:
            return await _put(sftp, connection.path, archive, names)
    except ExportFailed:
        raise
    except (asyncssh.Error, OSError) as error:
        raise TransferFailed(f"the transfer failed: {_describe(error)}") from None
    finally:
        ssh.close()


async def _connect(
    connection: SftpConnection, addresses: list[str], client: _FingerprintClient
) -> asyncssh.SSHClientConnection:
    last: Exception | None = None
    for address in addresses:
        try:
            return await asyncssh.connect(
                address,
                connection.port,
                username=connection.username,
                password=connection.password,
                client_factory=lambda: client,
                known_hosts=_trust_nothing,
                client_keys=None,
                agent_path=None,
                config=None,
                preferred_auth="password",
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                login_timeout=LOGIN_TIMEOUT_SECONDS,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyMismatch(
                f"the server presented host key {client.presented or 'that could not be read'}, "
                f"not {connection.host_key_fingerprint}; no credentials were sent"
            ) from None
        except asyncssh.PermissionDenied:
            raise AuthenticationFailed(f"the server refused user {connection.username!r} with this password") from None
        except (TimeoutError, OSError, asyncssh.Error) as error:
            last = error
    where = f"{connection.host}:{connection.port}"
    raise Unreachable(f"could not open an SSH session to {where}: {_describe(last)}")


async def _put(sftp: asyncssh.SFTPClient, directory: str, archive: IO[bytes], names: tuple[str, str]) -> str:
    if not await sftp.isdir(directory):
        raise RemotePathMissing(f"the directory {directory!r} does not exist on the server")
    wanted, unique = (posixpath.join(directory, name) for name in names)
    partial = posixpath.join(directory, f".{names[1]}.part")
    try:
        async with sftp.open(partial, "wb") as remote:
            while chunk := archive.read(WRITE_CHUNK_BYTES):
                await remote.write(chunk)
    except (asyncssh.Error, OSError):
        with contextlib.suppress(asyncssh.Error, OSError):
            await sftp.remove(partial)  # best effort: the session may be gone
        raise
    if wanted != unique:
        try:
            await sftp.rename(partial, wanted)  # SFTP's own rename never replaces an existing file
            return wanted
        except asyncssh.SFTPError:
            if not await sftp.exists(wanted):
                raise
    try:
        await sftp.posix_rename(partial, unique)
    except asyncssh.SFTPOpUnsupported:
        if await sftp.exists(unique):
            await sftp.remove(unique)
        await sftp.rename(partial, unique)
    return unique


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "no address to try"
    if isinstance(error, TimeoutError):
        return "timed out"
    text = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
