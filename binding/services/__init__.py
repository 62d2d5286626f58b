"""Business operations of the binding app, by concern. Views, tasks and admin actions call these, nothing else.

    cookies        registration: a browser's correlation cookie, its device-check token, the record lookup
    devices        a customer's devices: rename, remove, swap allowance, refresh from records
    entitlements   the customer's and the operator's commands on entitlements (create, renew, move, ...)
    issuing        the worker's issuing protocol: claim and lease, token request, failure, automatic retries
    device_trust   which device a purchase is bound to, and what a device check proves
    tokens         token requests to ExpressPlay, each on record
    queueing       queue a task after commit, never losing the work when the broker is away
    sweep          find stranded work again from the database (run by beat)
    heartbeats     a periodic job says it ran, so that its stopping is seen
    connection     the operators' connection check
    playback       Bindery's own binding at Play: playback sessions, their short tokens, the licence proxy
    media          a clip encrypted with a key of its own (Shaka Packager), on record as a media asset

Callers keep `from binding import services` and use the names re-exported here.
"""

from ..exceptions import BindingError
from .connection import ConnectionReport, expressplay_connection_check
from .devices import (
    SwapAllowance,
    device_refresh,
    device_remove,
    device_rename,
    device_swap_allowance,
    device_swaps_reset,
)
from .drm import drm_fallback_clear, drm_fallbacks
from .entitlements import (
    drm_refused,
    entitlement_create,
    entitlement_mark_played,
    entitlement_move,
    entitlement_refusal_report,
    entitlement_reissue,
    entitlement_renew,
    entitlement_retry,
    entitlement_revoke,
    entitlements_expire_ended,
)
from .heartbeats import heartbeat_record
from .issuing import (
    _claim,
    entitlement_expire_if_over,
    entitlement_give_up,
    entitlement_issue,
    entitlement_retry_automatically,
    entitlement_retry_later,
    entitlements_resume_after_check,
)
from .media import media_asset_package
from .playback import (
    play_challenge,
    play_licence_relay,
    play_session_end,
    play_session_heartbeat,
    play_session_start,
)
from .queueing import queue_after_commit
from .registrations import (
    device_bind,
    device_confirm,
    device_confirm_gave_up,
    device_confirm_retry_later,
    device_name_suggestion,
    dummy_token_issue,
    registration_check_start,
    registration_create,
    registration_expire_if_stale,
    registration_licence_seen,
    registrations_expire_stale,
)
from .sweep import SweepReport, work_sweep
from .tokens import time_based_token_issue, token_request

__all__ = [
    "BindingError",
    "ConnectionReport",
    "SwapAllowance",
    "SweepReport",
    "_claim",
    "device_bind",
    "device_confirm",
    "device_confirm_gave_up",
    "device_confirm_retry_later",
    "device_name_suggestion",
    "device_refresh",
    "device_remove",
    "device_rename",
    "device_swap_allowance",
    "device_swaps_reset",
    "drm_fallback_clear",
    "drm_fallbacks",
    "drm_refused",
    "dummy_token_issue",
    "entitlement_create",
    "entitlement_expire_if_over",
    "entitlement_give_up",
    "entitlement_issue",
    "entitlement_mark_played",
    "entitlement_move",
    "entitlement_refusal_report",
    "entitlement_reissue",
    "entitlement_renew",
    "entitlement_retry",
    "entitlement_retry_automatically",
    "entitlement_retry_later",
    "entitlement_revoke",
    "entitlements_expire_ended",
    "entitlements_resume_after_check",
    "expressplay_connection_check",
    "heartbeat_record",
    "media_asset_package",
    "play_challenge",
    "play_licence_relay",
    "play_session_end",
    "play_session_heartbeat",
    "play_session_start",
    "queue_after_commit",
    "registration_check_start",
    "registration_create",
    "registration_expire_if_stale",
    "registration_licence_seen",
    "registrations_expire_stale",
    "time_based_token_issue",
    "token_request",
    "work_sweep",
]
