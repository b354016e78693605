"""Call Link subdomains (`/call-link/1/subdomains`): at most three per account, names unique within it.

The limit is three slots, each taken by a conditional write, so racing creates cannot make a fourth. Deleting a
subdomain invalidates the links made with it: their pages answer as unknown links do (`is_live`).
"""

from __future__ import annotations

from chalicelib.call_link import repository
from chalicelib.call_link.errors import CallLinkResourceNotFound, InvalidField
from chalicelib.call_link.schemas import Subdomain, SubdomainRequest
from chalicelib.core import clock, ids
from chalicelib.db.models import CallLinkSubdomain

MAX_SUBDOMAINS = 3
SLOTS = tuple(str(number) for number in range(1, MAX_SUBDOMAINS + 1))


def _view(item: CallLinkSubdomain) -> Subdomain:
    return Subdomain(id=item.subdomain_id, name=item.name)


def create_subdomain(account_id: str, request: SubdomainRequest) -> Subdomain:
    name = request.name.lower()
    existing = repository.list_subdomains(account_id)
    if any(item.name == name for item in existing):
        raise InvalidField("name", f"the account already has the subdomain {name!r}")
    taken = {item.slot for item in existing}
    for slot in SLOTS:
        if slot in taken:
            continue
        item = CallLinkSubdomain(account_id, slot, subdomain_id=ids.uuid_id(), name=name, created_at=clock.now())
        if repository.take_slot(item):
            return _view(item)
    raise InvalidField("name", f"an account may have at most {MAX_SUBDOMAINS} subdomains; delete one first")


def list_subdomains(account_id: str) -> list[Subdomain]:
    items = sorted(repository.list_subdomains(account_id), key=lambda item: (item.created_at, item.slot))
    return [_view(item) for item in items]


def find(account_id: str, subdomain_id: str) -> CallLinkSubdomain | None:
    return next((item for item in repository.list_subdomains(account_id) if item.subdomain_id == subdomain_id), None)


def delete_subdomain(account_id: str, subdomain_id: str) -> Subdomain:
    item = find(account_id, subdomain_id)
    if item is None or not repository.delete_subdomain(item):
        raise CallLinkResourceNotFound("Subdomain", subdomain_id)
    return _view(item)


def is_live(account_id: str, subdomain_id: str | None) -> bool:
    return subdomain_id is None or find(account_id, subdomain_id) is not None
