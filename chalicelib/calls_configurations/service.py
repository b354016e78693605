"""Calls-configuration rules.

- An id is the client's (`^[a-zA-Z0-9_-]*$`, 1..128) or generated; a taken id is refused by the write itself.
- Configurations belong to an account: another account's id is unknown (404), exactly like a missing one.
- An update replaces what the request describes: a PUT without `name` leaves the configuration unnamed.
- `get_configuration` is how the rest of the platform (calls, transfers, the SDK's `callApplication`) checks that a
  configuration exists for the account.
"""

from __future__ import annotations

from chalicelib.calls_configurations import repository
from chalicelib.calls_configurations.errors import CallsConfigurationNotFound, ConfigurationIdTaken
from chalicelib.calls_configurations.repository import ConfigurationRecord
from chalicelib.calls_configurations.schemas import (
    CallsConfigurationCreateRequest,
    CallsConfigurationPage,
    CallsConfigurationResponse,
    CallsConfigurationUpdateRequest,
)
from chalicelib.core import clock, ids
from chalicelib.core.paging import PageInfo, page_of


def _view(record: ConfigurationRecord) -> CallsConfigurationResponse:
    return CallsConfigurationResponse(id=record.configuration_id, name=record.name)


def create_configuration(account_id: str, request: CallsConfigurationCreateRequest) -> CallsConfigurationResponse:
    record = ConfigurationRecord(account_id, request.id or ids.uuid_id(), request.name, clock.now())
    if not repository.create(record):
        raise ConfigurationIdTaken(record.configuration_id)
    return _view(record)


def get_configuration(account_id: str, configuration_id: str) -> ConfigurationRecord:
    """The account's configuration, or `CallsConfigurationNotFound` (404)."""
    record = repository.get(account_id, configuration_id)
    if record is None:
        raise CallsConfigurationNotFound(configuration_id)
    return record


def read_configuration(account_id: str, configuration_id: str) -> CallsConfigurationResponse:
    return _view(get_configuration(account_id, configuration_id))


def list_configurations(account_id: str, page: int, size: int) -> CallsConfigurationPage:
    records = sorted(repository.list_all(account_id), key=lambda r: (r.created_at, r.configuration_id), reverse=True)
    items, paging = page_of(records, page, size)
    return CallsConfigurationPage(results=[_view(r) for r in items], paging=PageInfo(**paging))


def update_configuration(
    account_id: str, configuration_id: str, request: CallsConfigurationUpdateRequest
) -> CallsConfigurationResponse:
    record = repository.rename(account_id, configuration_id, request.name)
    if record is None:
        raise CallsConfigurationNotFound(configuration_id)
    return _view(record)


def delete_configuration(account_id: str, configuration_id: str) -> CallsConfigurationResponse:
    record = get_configuration(account_id, configuration_id)
    if not repository.delete(record):
        raise CallsConfigurationNotFound(configuration_id)
    return _view(record)
