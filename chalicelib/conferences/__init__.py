"""Conferences (`/calls/1/conferences`, `/calls/1/connect`): Infobip's records and events here, the mixing on the
media node that has the calls.

    schemas.py      Infobip's Conference, Participant, ConferenceLog, requests and event payloads (pydantic)
    repository.py   ConferenceRecord and the Conference table (staged into outbox transactions)
    service.py      the record's changes and their events (the API and the media node call it)
    operations.py   what the API asks for, carried out with the media node
    routes.py       the thin routes
"""
