"""All persistent models. Every item carries its owning `account_id`, so tenant isolation is a key property,
not a filter someone might forget. TTL attributes where data has a retention period."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import BaseModel, TableMeta

# --- accounts and credentials -------------------------------------------------------------------------


class AccountByUsername(GlobalSecondaryIndex["Account"]):
    class Meta:
        index_name = "by-username"
        projection = AllProjection()

    username = UnicodeAttribute(hash_key=True)


class Account(BaseModel):
    class Meta(TableMeta):
        base_name = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    username = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()

    by_username = AccountByUsername()


class ApiKeyByAccount(GlobalSecondaryIndex["ApiKey"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKey(BaseModel):
    """An API key, stored by the SHA-256 of its secret (the secret itself is shown once, never stored)."""

    class Meta(TableMeta):
        base_name = "api-keys"

    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    prefix = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)

    by_account = ApiKeyByAccount()


# --- subscriptions ------------------------------------------------------------------------------------


class SecuritySetting(BaseModel):
    """Webhook credentials; the credential payload is encrypted with the data key."""

    class Meta(TableMeta):
        base_name = "subscription-security"

    account_id = UnicodeAttribute(hash_key=True)
    auth_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    credentials_sealed = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class NotificationProfile(BaseModel):
    class Meta(TableMeta):
        base_name = "subscription-profiles"

    account_id = UnicodeAttribute(hash_key=True)
    profile_id = UnicodeAttribute(range_key=True)
    notify_url = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    auth_id = UnicodeAttribute(null=True)
    connect_timeout_ms = NumberAttribute(null=True)
    read_timeout_ms = NumberAttribute(null=True)
    headers = MapAttribute[str, str](null=True)
    options = MapAttribute[str, object](null=True)
    created_at = UTCDateTimeAttribute()


class CriteriaPair(MapAttribute[str, str]):
    applicationId = UnicodeAttribute(null=True)
    entityId = UnicodeAttribute(null=True)
    callsConfigurationId = UnicodeAttribute(null=True)


class Subscription(BaseModel):
    class Meta(TableMeta):
        base_name = "subscriptions"

    account_id = UnicodeAttribute(hash_key=True)
    subscription_key = UnicodeAttribute(range_key=True)  # "<channel>#<subscriptionId>"
    channel = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    events = ListAttribute[str]()
    criteria = ListAttribute[CriteriaPair](of=CriteriaPair, null=True)
    resources = ListAttribute[str](null=True)
    users = ListAttribute[str](null=True)
    profile_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


# --- the event pipeline -------------------------------------------------------------------------------


class EventSequence(BaseModel):
    """The last sequence number handed out per event stream (a call, conference, dialog or the account)."""

    class Meta(TableMeta):
        base_name = "event-sequences"

    stream_key = UnicodeAttribute(hash_key=True)  # "<accountId>#<callId|conferenceId|dialogId|account>"
    account_id = UnicodeAttribute()
    sequence = NumberAttribute()
    expires_at = TTLAttribute(null=True)


class OutboxEvent(BaseModel):
    """An event written in the same transaction as the change it describes. The table's stream feeds fan-out.

    Keyed by stream then sequence, so one call's events share a partition and reach the stream in order.
    """

    class Meta(TableMeta):
        base_name = "outbox"
        stream_view_type = "NEW_IMAGE"

    stream_key = UnicodeAttribute(hash_key=True)
    sequence = NumberAttribute(range_key=True)
    account_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    calls_configuration_id = UnicodeAttribute(null=True)
    application_id = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    body = UnicodeAttribute()  # the exact JSON delivered to webhooks
    target = UnicodeAttribute(null=True)  # "<channel>/<id>": one named webhook (a call-link config), no subscriptions
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class DeliveryAttempt(BaseModel):
    """One POST to a webhook, for the integrator's delivery log."""

    class Meta(TableMeta):
        base_name = "delivery-log"

    log_key = UnicodeAttribute(hash_key=True)  # "<accountId>#<channel>#<subscriptionId>"
    attempt_key = UnicodeAttribute(range_key=True)  # "<epoch ms, 13 digits>#<random>"
    account_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    sequence = NumberAttribute()
    attempt = NumberAttribute()
    outcome = UnicodeAttribute()  # DELIVERED | FAILED | DEAD_LETTERED | DROPPED
    status_code = NumberAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    attempted_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class DeadLetter(BaseModel):
    """A delivery that exhausted its retries; replayable through the API until it expires."""

    class Meta(TableMeta):
        base_name = "dead-letters"

    log_key = UnicodeAttribute(hash_key=True)  # "<accountId>#<channel>#<subscriptionId>"
    letter_key = UnicodeAttribute(range_key=True)  # "<first enqueue epoch ms, 13 digits>#<eventId>"
    account_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    message = UnicodeAttribute()  # the delivery message, as it was on the queue
    reason = UnicodeAttribute()
    dead_lettered_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# --- calls --------------------------------------------------------------------------------------------


class ApplicationTransferAttribute(MapAttribute[str, object]):
    """A call's latest application transfer (`chalicelib.calls.transfers`): PENDING until the destination accepts or
    rejects it or its timeout passes, then FINISHED or FAILED. Kept on the leg so "one pending transfer per live
    call" is a condition of one item; the leg's own state changes never write it."""

    transfer_id = UnicodeAttribute()
    state = UnicodeAttribute()  # PENDING | FINISHED | FAILED
    source_calls_configuration_id = UnicodeAttribute()
    source_application_id = UnicodeAttribute(null=True)
    source_entity_id = UnicodeAttribute(null=True)
    destination_calls_configuration_id = UnicodeAttribute()
    destination_application_id = UnicodeAttribute(null=True)
    destination_entity_id = UnicodeAttribute(null=True)
    custom_data = MapAttribute[str, str](null=True)  # the call's custom data once accepted
    timeout = NumberAttribute()  # seconds
    requested_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)  # why it failed: REJECTED | TIMEOUT | ...


class CallLegByLiveNode(GlobalSecondaryIndex["CallLeg"]):
    """Live legs only (sparse: `live_node` is removed when a leg ends), by the media node that handles them; the
    dead-node reaper reads it (`chalicelib.media_nodes.reaper`)."""

    class Meta:
        index_name = "live-by-node"
        projection = AllProjection()

    live_node = UnicodeAttribute(hash_key=True)


class CallLeg(BaseModel):
    """One call leg (Infobip's `Call` / `CallLog`). Keyed by account, so another account's call id is unknown.

    Live and finished legs share the table: a finished leg is its history entry, kept two months (`expires_at`).
    `state` is the optimistic-concurrency guard: every change is written on condition of the state it was read in.
    """

    class Meta(TableMeta):
        base_name = "calls"

    account_id = UnicodeAttribute(hash_key=True)
    call_id = UnicodeAttribute(range_key=True)
    endpoint = MapAttribute[str, object]()  # Infobip's CallEndpoint JSON (WEBRTC, PHONE, SIP, VIBER, ...)
    endpoint_type = UnicodeAttribute()
    from_id = UnicodeAttribute(null=True)
    to_id = UnicodeAttribute(null=True)
    direction = UnicodeAttribute()  # INBOUND | OUTBOUND
    state = UnicodeAttribute()
    audio = BooleanAttribute(default=True)
    video = BooleanAttribute(default=False)
    start_time = UTCDateTimeAttribute()
    ring_time = UTCDateTimeAttribute(null=True)
    answer_time = UTCDateTimeAttribute(null=True)
    end_time = UTCDateTimeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    hangup_source = UnicodeAttribute(null=True)
    calls_configuration_id = UnicodeAttribute(null=True)
    application_id = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    custom_data = MapAttribute[str, str](null=True)
    peer_call_id = UnicodeAttribute(null=True)
    parent_call_id = UnicodeAttribute(null=True)
    node_id = UnicodeAttribute(null=True)
    conference_id = UnicodeAttribute(null=True)  # the conference the leg is in now (written by conferences only)
    conference_ids = ListAttribute(of=UnicodeAttribute, null=True)  # every conference it joined, in order
    dialog_id = UnicodeAttribute(null=True)  # the dialog the leg is or was in (written by dialogs only)
    application_transfer = ApplicationTransferAttribute(null=True)  # written by `calls.transfers` only
    # While the leg is live: its node_id, or "-" before a node took it (`calls.repository`); absent once it ended.
    live_node = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    by_live_node = CallLegByLiveNode()


# --- conferences ----------------------------------------------------------------------------------------


class ConferenceParticipant(MapAttribute[str, object]):
    call_id = UnicodeAttribute()
    endpoint = UnicodeAttribute()  # the call's CallEndpoint as JSON (a leg's endpoint never changes)
    state = UnicodeAttribute()  # JOINING | JOINED | LEFT
    join_time = UTCDateTimeAttribute(null=True)
    leave_time = UTCDateTimeAttribute(null=True)
    muted = BooleanAttribute(default=False)
    deaf = BooleanAttribute(default=False)


class Conference(BaseModel):
    """Infobip's `Conference` / `ConferenceLog`: one item with its participants (at most 15), so a change and its
    event are one conditional write (`version`). A finished conference is its history entry, kept two months."""

    class Meta(TableMeta):
        base_name = "conferences"

    account_id = UnicodeAttribute(hash_key=True)
    conference_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    calls_configuration_id = UnicodeAttribute()
    application_id = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    node_id = UnicodeAttribute(null=True)  # the media node whose mix it is (set by the first participant)
    max_duration = NumberAttribute()
    participants = ListAttribute(of=ConferenceParticipant, default=list)
    start_time = UTCDateTimeAttribute()
    end_time = UTCDateTimeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    version = NumberAttribute()
    expires_at = TTLAttribute()


# --- dialogs --------------------------------------------------------------------------------------------


class Dialog(BaseModel):
    """Infobip's `Dialog` / `DialogLog`: a parent call bridged with a child call, never a third. Every change and its
    event are one conditional write (`version`). A finished dialog is its history entry, kept two months."""

    class Meta(TableMeta):
        base_name = "dialogs"

    account_id = UnicodeAttribute(hash_key=True)
    dialog_id = UnicodeAttribute(range_key=True)
    calls_configuration_id = UnicodeAttribute()
    application_id = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    parent_call_id = UnicodeAttribute()
    child_call_id = UnicodeAttribute()
    node_id = UnicodeAttribute(null=True)  # the media node that bridges it (the parent's)
    state = UnicodeAttribute()  # CREATED | PRE_ESTABLISHED | ESTABLISHED | FINISHED | FAILED
    max_duration = NumberAttribute()
    start_time = UTCDateTimeAttribute()
    establish_time = UTCDateTimeAttribute(null=True)
    end_time = UTCDateTimeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    hangup_source = UnicodeAttribute(null=True)
    version = NumberAttribute()
    expires_at = TTLAttribute()


# --- the media plane ----------------------------------------------------------------------------------


class MediaNode(BaseModel):
    """A media node's registry entry, refreshed by its heartbeat. Platform data, the one kind of item no account
    owns: nodes serve every account. An entry whose node stopped beating expires (TTL) and is ignored before that."""

    class Meta(TableMeta):
        base_name = "media-nodes"

    node_id = UnicodeAttribute(hash_key=True)
    public_url = UnicodeAttribute()
    internal_url = UnicodeAttribute()
    status = UnicodeAttribute()  # UP | DRAINING
    capacity = NumberAttribute()
    calls = NumberAttribute()
    sessions = NumberAttribute()
    started_at = UTCDateTimeAttribute()
    heartbeat_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# --- files --------------------------------------------------------------------------------------------


class AudioFile(BaseModel):
    """An uploaded audio file (Infobip's `File`); the audio itself is the media bucket's object `object_key`.
    Keyed by account, so another account's file id is unknown. Infobip removes a file unused for 90 days: the item
    expires then (`expires_at`)."""

    class Meta(TableMeta):
        base_name = "audio-files"

    account_id = UnicodeAttribute(hash_key=True)
    file_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    file_format = UnicodeAttribute()  # WAV | MP3
    size = NumberAttribute()  # bytes
    duration = NumberAttribute()  # whole seconds
    object_key = UnicodeAttribute()  # "<accountId>/files/<fileId>.<wav|mp3>"
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# --- calls configurations -----------------------------------------------------------------------------


class CallsConfiguration(BaseModel):
    """Infobip's calls configuration: the application a call belongs to. The id is the client's or generated."""

    class Meta(TableMeta):
        base_name = "calls-configurations"

    account_id = UnicodeAttribute(hash_key=True)
    configuration_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


# --- media-stream configurations ----------------------------------------------------------------------


class MediaStreamConfig(BaseModel):
    """Where a call's audio is streamed (a ws/wss URL). BASIC credentials are encrypted with the data key."""

    class Meta(TableMeta):
        base_name = "media-stream-configs"

    account_id = UnicodeAttribute(hash_key=True)
    config_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()  # MEDIA_STREAMING
    name = UnicodeAttribute()
    url = UnicodeAttribute()
    audio_encoding = UnicodeAttribute()  # RAW
    security_type = UnicodeAttribute(null=True)  # BASIC
    credentials_sealed = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


# --- call link ----------------------------------------------------------------------------------------


class CallLinkConfig(BaseModel):
    """Infobip's `CallLinkConfig`. The options and theme are one JSON document (read and written whole); a webhook
    credential (BASIC password, HMAC key) is encrypted with the data key and never part of the document."""

    class Meta(TableMeta):
        base_name = "call-link-configs"

    account_id = UnicodeAttribute(hash_key=True)
    config_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    is_default = BooleanAttribute(default=False)
    document = UnicodeAttribute()  # {initialOptions, callOptions, theme, subdomainId, webhook{url, security...}}
    webhook_secret_sealed = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class CallLinkImage(BaseModel):
    """A logo or background for call-link pages; the image itself is the media bucket's object `object_key`."""

    class Meta(TableMeta):
        base_name = "call-link-images"

    account_id = UnicodeAttribute(hash_key=True)
    image_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    type = UnicodeAttribute()  # LOGO | BACKGROUND
    image_format = UnicodeAttribute()  # PNG | JPEG
    size = NumberAttribute()  # bytes
    width = NumberAttribute()
    height = NumberAttribute()
    object_key = UnicodeAttribute()  # "<accountId>/call-link/images/<imageId>.<png|jpg>"
    created_at = UTCDateTimeAttribute()


class CallLinkSubdomain(BaseModel):
    """A call-link subdomain in one of the account's three slots: the slot key makes the limit a conditional write."""

    class Meta(TableMeta):
        base_name = "call-link-subdomains"

    account_id = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)  # "1" | "2" | "3"
    subdomain_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class CallLinkByAccount(GlobalSecondaryIndex["CallLink"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)


class CallLink(BaseModel):
    """A call link, keyed by its public short code (unique across accounts by a conditional write); listed per
    account through `by_account`. `busy_session`/`busy_until` is the lease of the one caller a WEBRTC destination
    takes at a time; `used_at` marks a one-time link whose call started."""

    class Meta(TableMeta):
        base_name = "call-links"

    code = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    document = UnicodeAttribute()  # Infobip's CallLink without id, url and the room password
    destination_type = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)  # a ROOM's password (scrypt)
    config_id = UnicodeAttribute(null=True)  # resolved at creation: the request's, else the default, else none
    subdomain_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    busy_session = UnicodeAttribute(null=True)
    busy_until = UTCDateTimeAttribute(null=True)
    failed_attempts = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)

    by_account = CallLinkByAccount()


class CallLinkSession(BaseModel):
    """One visit of a call-link page that asked for a call: keyed by the SHA-256 of the secret the page holds."""

    class Meta(TableMeta):
        base_name = "call-link-sessions"

    session_key = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    code = UnicodeAttribute()
    identity = UnicodeAttribute()
    display_name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    established_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


# --- recordings -----------------------------------------------------------------------------------------


class RecordingFileByNode(GlobalSecondaryIndex["RecordingFile"]):
    """Files by the media node that records them and their status: the dead-node reaper queries a node's RECORDING
    and UPLOADING files (`chalicelib.media_nodes.reaper`)."""

    class Meta:
        index_name = "by-node"
        projection = AllProjection()

    node_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(range_key=True)


class RecordingFile(BaseModel):
    """One recorded file (Infobip's `RecordingFile`) of a call, conference or dialog recording (`scope_type`,
    `scope_id`); `call_id` names the participant of a per-participant file, none for a composed one. The media is
    the bucket's object `object_key` while `location` is HOSTED. A deleted file keeps its item as the audit trail's
    tombstone (`deleted_at`, `deleted_by`, `deleted_reason`); its object is gone and it is no longer listed."""

    class Meta(TableMeta):
        base_name = "recording-files"

    account_id = UnicodeAttribute(hash_key=True)
    file_id = UnicodeAttribute(range_key=True)
    scope_type = UnicodeAttribute()  # CALL | CONFERENCE | DIALOG
    scope_id = UnicodeAttribute()
    recording_id = UnicodeAttribute()  # the start/stop (or composition) that made it
    call_id = UnicodeAttribute(null=True)
    composed = BooleanAttribute(default=False)
    status = UnicodeAttribute()  # RECORDING | UPLOADING | READY | FAILED | DELETED
    name = UnicodeAttribute()
    file_format = UnicodeAttribute()  # WAV | MP4
    recording_type = UnicodeAttribute()  # AUDIO | AUDIO_AND_VIDEO
    composition = BooleanAttribute(default=False)
    size = NumberAttribute(null=True)
    duration = NumberAttribute(null=True)  # whole seconds
    start_time = UTCDateTimeAttribute()
    end_time = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    location = UnicodeAttribute(default="HOSTED")  # HOSTED | SFTP
    object_key = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)  # why it failed, or why it was cut short
    interrupted = BooleanAttribute(default=False)  # cut short by the media node, stored as far as it got
    custom_data = MapAttribute[str, str](null=True)
    file_prefix = UnicodeAttribute(null=True)
    calls_configuration_id = UnicodeAttribute(null=True)
    application_id = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    node_id = UnicodeAttribute(null=True)
    sftp_upload_status = UnicodeAttribute(null=True)  # UPLOADING | UPLOADED | FAILED (the SFTP export)
    sftp_error = UnicodeAttribute(null=True)  # the last failed attempt's sentence (`recording_export.errors`)
    sftp_error_reason = UnicodeAttribute(null=True)  # ... and its code (HOST_KEY_MISMATCH, UNREACHABLE, ...)
    sftp_attempts = NumberAttribute(null=True)
    sftp_next_attempt_at = UTCDateTimeAttribute(null=True)  # when a failed export is tried again (None: never)
    sftp_remote_path = UnicodeAttribute(null=True)  # where the zip was put, once UPLOADED
    deleted_at = UTCDateTimeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)  # the API key (or the composition) that deleted it
    deleted_reason = UnicodeAttribute(null=True)

    by_node = RecordingFileByNode()


# --- account recording settings and the recording export ---------------------------------------------


class RecordingSettings(BaseModel):
    """An account's recording settings (`/accounts/1/recording-settings`): the WebRTC recording setting read by
    `chalicelib.webrtc.recording_rules` and the composition preference. An account without an item has the
    defaults (WebRTC recording off, AUDIO, no composition)."""

    class Meta(TableMeta):
        base_name = "recording-settings"

    account_id = UnicodeAttribute(hash_key=True)
    webrtc_enabled = BooleanAttribute(default=False)
    webrtc_media_type = UnicodeAttribute(default="AUDIO")  # AUDIO | AUDIO_AND_VIDEO
    auto_compose = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute()


class RecordingExportDestination(BaseModel):
    """Where an account's finished recordings are pushed (`/accounts/1/recording-export/sftp`). The password is
    encrypted with the data key, bound to the account and the destination; the server must present the host key
    whose fingerprint is stored here before any credential is sent."""

    class Meta(TableMeta):
        base_name = "recording-export-destinations"

    account_id = UnicodeAttribute(hash_key=True)
    protocol = UnicodeAttribute(range_key=True)  # SFTP
    enabled = BooleanAttribute()
    host = UnicodeAttribute()
    port = NumberAttribute()
    path = UnicodeAttribute()
    username = UnicodeAttribute()
    password_sealed = UnicodeAttribute()
    host_key_fingerprint = UnicodeAttribute()  # "SHA256:<unpadded base64>", as `ssh-keygen -lf` prints it
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


ALL_MODELS: tuple[type[BaseModel], ...] = (
    Account,
    ApiKey,
    SecuritySetting,
    NotificationProfile,
    Subscription,
    EventSequence,
    OutboxEvent,
    DeliveryAttempt,
    DeadLetter,
    CallLeg,
    Conference,
    Dialog,
    MediaNode,
    AudioFile,
    CallsConfiguration,
    MediaStreamConfig,
    CallLinkConfig,
    CallLinkImage,
    CallLinkSubdomain,
    CallLink,
    CallLinkSession,
    RecordingFile,
    RecordingSettings,
    RecordingExportDestination,
)
