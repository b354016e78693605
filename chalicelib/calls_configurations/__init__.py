"""Infobip's calls configurations (`/calls/1/configurations`): the "application" a call belongs to, which decides
whose subscriptions receive its events. The rest of the platform asks `service.get_configuration`."""
