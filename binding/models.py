"""Device binding: correlation cookies, the devices they bind, packaged media keys, and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField


class DrmChoices(models.TextChoices):
    """The DRMs ExpressPlay issues tokens for, by their token API's name (hms/pr, hms/wv, hms/fp)."""

    PLAYREADY = "pr", "PlayReady"
    WIDEVINE = "wv", "Widevine"
    FAIRPLAY = "fp", "FairPlay"


class BindingMode(models.TextChoices):
    """How a DRM's titles are bound to a device (decision 0013)."""

    EXPRESSPLAY = "expressplay", _("by ExpressPlay (device restriction in the token)")
    BINDERY = "bindery", _("by Bindery (a short token at each Play, for the proven device only)")
    REFUSE = "refuse", _("not sold (this DRM cannot be bound)")


class MediaAsset(models.Model):
    """An encrypted clip: its DASH manifest (Widevine, PlayReady, ClearKey), its HLS playlist (FairPlay), and
    the content key (CEK) and FairPlay IV it was encrypted with.

    The key leaves this table only in a token request to ExpressPlay; it is never rendered, logged or
    shown in admin.
    """

    slug = models.SlugField(_("slug"), unique=True)
    # What customers and operators call it: the shop keeps it equal to the name of the title it plays.
    name = models.CharField(_("name"), max_length=120, blank=True)
    kid = models.CharField(_("key id"), max_length=32, unique=True)
    key = EncryptedTextField(_("content key"))  # encrypted at rest (binding/fields.py)
    manifest = models.CharField(_("manifest path"), max_length=200, help_text=_("Relative to MEDIA_URL."))
    hls_manifest = models.CharField(
        _("HLS playlist path"),
        max_length=200,
        blank=True,
        help_text=_("FairPlay's master playlist, relative to MEDIA_URL; empty when the title has no HLS."),
    )
    # The IV of the title's FairPlay (cbcs) encryption: FairPlay tokens must carry it (hms/fp/token `iv`).
    iv = models.CharField(_("FairPlay IV"), max_length=32, blank=True)
    duration = models.FloatField(_("duration (s)"), default=0)
    packaged_at = models.DateTimeField(_("packaged at"), default=timezone.now)

    class Meta:
        verbose_name = _("media asset")
        verbose_name_plural = _("media assets")

    def __str__(self) -> str:
        return self.name or self.slug

    @property
    def manifest_url(self) -> str:
        """Where players load the manifest: under MEDIA_URL, or the address an API client gave (its CDN)."""
        if self.manifest.startswith(("https://", "http://")):
            return self.manifest
        return f"{settings.MEDIA_URL}{self.manifest}"

    @property
    def hls_manifest_url(self) -> str:
        if not self.hls_manifest or self.hls_manifest.startswith(("https://", "http://")):
            return self.hls_manifest
        return f"{settings.MEDIA_URL}{self.hls_manifest}"


class RegistrationState(models.TextChoices):
    CREATED = "created", _("Created")
    DUMMY_TOKEN_ISSUED = "dummy_token_issued", _("Device check token issued")
    LICENCE_SEEN = "licence_seen", _("Licence seen")
    BOUND = "bound", _("Bound")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def pending(self) -> RegistrationQuerySet:
        return self.filter(state__in=Registration.PENDING_STATES)

    def stale(self, now: datetime | None = None) -> RegistrationQuerySet:
        return self.pending().filter(expires_at__lte=now or timezone.now())


class Registration(models.Model):
    """One registration attempt of one browser: the ExpressPlay correlation value and where it got to."""

    PENDING_STATES = (
        RegistrationState.CREATED,
        RegistrationState.DUMMY_TOKEN_ISSUED,
        RegistrationState.LICENCE_SEEN,
    )
    # failure_reason of an attempt refused because the customer has BINDING_DEVICE_LIMIT devices already.
    FAILURE_DEVICE_LIMIT = "device_limit"

    value = models.CharField(_("correlation value"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="binding_registrations"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=RegistrationState.choices, default=RegistrationState.CREATED
    )
    device = models.ForeignKey(
        "Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cookies",
        verbose_name=_("device"),
    )
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    device_name = models.CharField(
        _("device name"), max_length=80, blank=True, help_text=_("The name the customer gave this browser.")
    )
    # The DRM the browser chose (its key system), set when the check starts: the check token and every later
    # token for the device come from that DRM's token API.
    drm = models.CharField(_("DRM"), max_length=2, choices=DrmChoices.choices, default=DrmChoices.PLAYREADY)
    # The browser's device key (SPKI DER, base64), proven by a signature when the check starts: Bindery-bound
    # titles are handed only to a browser that signs with it (decision 0013).
    identity_key = models.TextField(_("device key"), blank=True)
    # The device-check token's licence URL: it unlocks only the device-check clip, lives
    # BINDING_CHECK_TOKEN_TTL seconds, is handed to one page once (check_started_at) and is forgotten as soon as
    # the attempt is over (bound, failed, expired): a check proves one device, once (decision 0009).
    check_license_url = EncryptedTextField(_("device check licence URL"), blank=True)
    check_started_at = models.DateTimeField(_("device check started at"), null=True, blank=True)
    # The registration this browser had before (it registered again): orders held for a fresh device check of
    # that registration go on with this one once it is bound.
    replaces = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("registers again"),
    )
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    expressplay_code = models.IntegerField(_("ExpressPlay code"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    expires_at = models.DateTimeField(_("expires at"))
    # When the record lookup was last handed to the queue (or is due to run again); None: not queued, so the
    # sweep queues it at once. The database, not the queue, says what still has to be done.
    queued_at = models.DateTimeField(_("lookup queued at"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=RegistrationState.BOUND) | Q(device__isnull=False),
                name="bound_cookie_has_device",
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING_STATES

    @property
    def effective_state(self) -> str:
        """Return the state as the user sees it now: a pending attempt past its time is expired before a write says so."""
        if self.is_pending and self.expires_at <= timezone.now():
            return RegistrationState.EXPIRED
        return self.state


class DeviceQuerySet(models.QuerySet["Device"]):
    def active(self) -> DeviceQuerySet:
        return self.filter(removed_at__isnull=True)


class Device(models.Model):
    """A DRM device of one user, as ExpressPlay's records identify it. The id never comes from the browser."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(_("device id"), max_length=64)
    drm = models.CharField(_("DRM"), max_length=2, choices=DrmChoices.choices, default=DrmChoices.PLAYREADY)
    # The device key of the browser that registered it (SPKI DER, base64): what a Bindery-bound Play must prove.
    identity_key = models.TextField(_("device key"), blank=True)
    label = models.CharField(_("name"), max_length=80)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["first_seen"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [models.UniqueConstraint(fields=["user", "device_id"], name="one_device_row_per_user")]
        permissions = [
            ("remove_device", _("Can remove a customer's device")),
            ("refresh_device", _("Can refresh a device from ExpressPlay records")),
            ("reset_device_swaps", _("Can reset a customer's device swap allowance")),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Actor(models.TextChoices):
    USER = "user", _("User")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")


class EventKind(models.TextChoices):
    COOKIE_CREATED = "cookie_created", _("Registration started")
    DUMMY_TOKEN_ISSUED = "dummy_token_issued", _("Device check token issued")
    DUMMY_TOKEN_FAILED = "dummy_token_failed", _("Device check token refused")
    LICENCE_SEEN = "licence_seen", _("Browser reported a licence")
    RECORD_LOOKUP_FAILED = "record_lookup_failed", _("Record lookup failed")
    DEVICE_BOUND = "device_bound", _("Device bound")
    DEVICE_LIMIT_REACHED = "device_limit_reached", _("Device limit reached")
    COOKIE_EXPIRED = "cookie_expired", _("Registration expired")
    DEVICE_RENAMED = "device_renamed", _("Device renamed")
    DEVICE_REMOVED = "device_removed", _("Device removed")
    DEVICE_MISMATCH = "device_mismatch", _("Records show another device")
    ENTITLEMENT_CREATED = "entitlement_created", _("Entitlement created")
    TOKEN_ISSUED = "token_issued", _("Token issued")
    TOKEN_FAILED = "token_failed", _("Token not issued")
    TOKEN_RENEWAL = "token_renewal", _("Token renewal requested")
    ENTITLEMENT_RETRIED = "entitlement_retried", _("Issuing retried")
    ENTITLEMENT_EXPIRED = "entitlement_expired", _("Rental ended")
    ENTITLEMENT_REVOKED = "entitlement_revoked", _("Entitlement revoked")
    TOKEN_REISSUE = "token_reissue", _("Token re-issue requested")
    ENTITLEMENT_MOVED = "entitlement_moved", _("Entitlement moved to another device")
    DEVICE_REFRESHED = "device_refreshed", _("Device refreshed from records")
    SWAPS_RESET = "swaps_reset", _("Device swap allowance reset")
    LICENCE_REFUSED = "licence_refused", _("Licence refused when playing")
    CHECK_REPLAYED = "check_replayed", _("Security: another device played a device check")
    ENTITLEMENT_HELD = "entitlement_held", _("Held for a fresh device check")
    DRM_BINDING_RETRIED = "drm_binding_retried", _("ExpressPlay's device binding to be tried again")


class EntitlementKind(models.TextChoices):
    BUY = "buy", _("Buy")
    RENT = "rent", _("Rent")


class EntitlementState(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class EntitlementFailure(models.TextChoices):
    """Why a failed entitlement failed, when Bindery itself refused to issue (not ExpressPlay)."""

    NONE = "", _("None")
    # ExpressPlay's records name no device that passed this customer's device check for the checkout browser:
    # the order waits for that browser to be registered again (decision 0009).
    DEVICE_CHECK_NEEDED = "device_check_needed", _("Held for a fresh device check")
    # The device's DRM cannot be bound (its binding mode is `refuse`, decision 0013): the title is not sold to it.
    DRM_NOT_BOUND = "drm_not_bound", _("This device's DRM cannot be bound")


class IssueProgress(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DEVICE_LOOKUP = "device_lookup", _("Looking up your device")
    TOKEN_REQUEST = "token_request", _("Issuing your licence")
    DONE = "done", _("Ready to play")


class EntitlementQuerySet(models.QuerySet["Entitlement"]):
    def waiting_too_long(self, now: datetime | None = None) -> EntitlementQuerySet:
        """Pending entitlements last changed (created, or put back to pending) longer ago than
        BINDING_PENDING_ALERT_AFTER: what operators should look at. `updated_at` is set by every change of
        state; claims, progress and retries leave it alone."""
        since = (now or timezone.now()) - timedelta(seconds=settings.BINDING_PENDING_ALERT_AFTER)
        return self.filter(state=EntitlementState.PENDING, updated_at__lt=since)

    def needs_support(self, now: datetime | None = None) -> EntitlementQuerySet:
        """Failed entitlements that nothing retries on its own, so they wait for an operator: refused by
        ExpressPlay, not bindable, or out of automatic retries. Not those held for the customer's fresh device
        check (registering again sends them on), nor rentals past their end. The admin index counts them:
        this is what the customer's "our support team has been told" means."""
        return (
            self.filter(state=EntitlementState.FAILED, retry_at__isnull=True)
            .exclude(failure=EntitlementFailure.DEVICE_CHECK_NEEDED)
            .exclude(kind=EntitlementKind.RENT, rental_ends_at__lte=now or timezone.now())
        )


class Entitlement(models.Model):
    """A user's right to play one asset, and the current device-bound token that carries it."""

    # The customer has the title: it plays (READY) or will once its token is issued (PENDING). A second
    # purchase of a title in these states is refused; its pages count it as the customer's.
    WATCHABLE_STATES = (EntitlementState.PENDING, EntitlementState.READY)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entitlements")
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="entitlements")
    kind = models.CharField(_("kind"), max_length=4, choices=EntitlementKind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=EntitlementState.choices, default=EntitlementState.PENDING
    )
    progress = models.CharField(
        _("progress"), max_length=16, choices=IssueProgress.choices, default=IssueProgress.QUEUED
    )
    rental_ends_at = models.DateTimeField(_("rental ends at"), null=True, blank=True)
    play_duration = models.PositiveIntegerField(_("viewing time after first play (s)"), null=True, blank=True)
    first_played_at = models.DateTimeField(_("first played at"), null=True, blank=True)
    cookie = models.ForeignKey(
        Registration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entitlements",
        verbose_name=_("cookie"),
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entitlements",
        verbose_name=_("device"),
    )
    # The whole token is in it: encrypted at rest, never shown in admin (token_short is).
    license_url = EncryptedTextField(_("licence URL"), blank=True)
    token_short = models.CharField(_("token"), max_length=20, blank=True)
    token_expires_at = models.DateTimeField(_("token expires at"), null=True, blank=True)
    # The device id inside the current token: it may differ from `device` after a move, until re-issued.
    token_device_id = models.CharField(_("device id in the token"), max_length=64, blank=True)
    # Who enforces the binding of the current device: ExpressPlay (device restriction in a long token) or Bindery
    # (no token kept; a short one at each Play, for the proven device). Empty until bound.
    bound_by = models.CharField(
        _("bound by"), max_length=12, choices=BindingMode.choices[:2], blank=True, default=""
    )
    tokens_issued = models.PositiveIntegerField(_("tokens issued"), default=0)
    error_code = models.IntegerField(_("ExpressPlay code"), null=True, blank=True)
    error_detail = models.CharField(_("error"), max_length=500, blank=True)
    failure = models.CharField(
        _("held because"), max_length=24, choices=EntitlementFailure.choices, default="", blank=True
    )
    # Which task run holds the right to issue the token now (one token per issue, however many workers), and
    # until when: a claim is a lease, so the work of a worker that died is taken over once it runs out.
    issuing_task = models.CharField(_("issuing task"), max_length=64, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # When issuing was last handed to the queue (or is due to run again after a retry's wait); None: not
    # queued (the broker was away), so the sweep queues it at once.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # After ExpressPlay could not be reached through every retry: when the sweep tries again on its own, and
    # how many times it did (BINDING_AUTO_RETRIES at most). None for a refusal, which waits for an operator.
    retry_at = models.DateTimeField(_("automatic retry at"), null=True, blank=True)
    # Since when ExpressPlay could not be reached for this issue (an outage delays a paid order; it does not
    # fail it for BINDING_OUTAGE_PATIENCE seconds), and the last reason, in an operator's words.
    delayed_since = models.DateTimeField(_("delayed since"), null=True, blank=True, db_index=True)
    delay_reason = models.CharField(_("delayed because"), max_length=300, blank=True)
    auto_retries = models.PositiveSmallIntegerField(_("automatic retries"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="rent") | Q(rental_ends_at__isnull=False), name="rental_has_end_time"
            ),
        ]
        permissions = [
            ("retry_entitlement", _("Can retry issuing a failed entitlement")),
            ("reissue_entitlement", _("Can re-issue an entitlement's token")),
            ("revoke_entitlement", _("Can revoke an entitlement")),
            ("move_entitlement", _("Can move an entitlement to another device")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.asset} ({self.user})"

    @property
    def rental_over(self) -> bool:
        return (
            self.kind == EntitlementKind.RENT
            and self.rental_ends_at is not None
            and self.rental_ends_at <= timezone.now()
        )

    @property
    def effective_state(self) -> str:
        """Return the state as the user sees it now: a rental past its end is expired even before a write says so."""
        if self.rental_over and self.state in self.WATCHABLE_STATES:
            return EntitlementState.EXPIRED
        return self.state

    @property
    def play_window_ends_at(self) -> datetime | None:
        if self.first_played_at and self.play_duration:
            return self.first_played_at + timedelta(seconds=self.play_duration)
        return None

    @property
    def token_expired(self) -> bool:
        return self.token_expires_at is None or self.token_expires_at <= timezone.now()


class BindingEvent(models.Model):
    """Append-only audit trail: who did what to which cookie or device, and ExpressPlay's code if any."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("what"), max_length=40, choices=EventKind.choices)
    actor = models.CharField(_("actor"), max_length=10, choices=Actor.choices, default=Actor.SYSTEM)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="binding_events",
        verbose_name=_("customer"),
    )
    cookie = models.ForeignKey(
        Registration, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    # A refusal report's browser: the device its registration names (None: not registered), so the diagnosis
    # can tell the operator which device the refused browser is, next to the one the token is bound to.
    reporting_device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reporting browser's device"),
    )
    expressplay_code = models.IntegerField(_("ExpressPlay code"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("binding event")
        verbose_name_plural = _("binding events")
        permissions = [("export_bindingevent", _("Can export the audit trail"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class TokenRequestPurpose(models.TextChoices):
    DEVICE_CHECK = "device_check", _("Device check")
    ENTITLEMENT = "entitlement", _("Entitlement")
    # A short token for one Play of a title bound by Bindery (decision 0013).
    PLAY = "play", _("Play (bound by Bindery)")
    # SEES's time-based entitlement (requestType 1): time-bound, no device restriction (decision 0008).
    TIME_BASED = "time_based", _("Time-based (SEES, not device-bound)")


class TokenRequestOutcome(models.TextChoices):
    SENT = "sent", _("Sent, no answer yet")
    ISSUED = "issued", _("Token issued")
    REFUSED = "refused", _("Refused by ExpressPlay")
    NOT_SENT = "not_sent", _("Not sent: ExpressPlay could not be reached")
    SERVER_ERROR = "server_error", _("Server error: no token")
    LOST = "lost", _("Answer lost: a token may exist")


class TokenRequest(models.Model):
    """One token request to ExpressPlay, on record before it is sent and updated with its outcome.

    ExpressPlay cannot tell us afterwards which tokens it made, so this table is how an operator counts
    them: every issued token, and every request whose answer was lost (a token may exist, unused, until
    `expires_at`).
    """

    purpose = models.CharField(_("purpose"), max_length=16, choices=TokenRequestPurpose.choices)
    entitlement = models.ForeignKey(
        Entitlement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="token_requests",
        verbose_name=_("entitlement"),
    )
    cookie = models.ForeignKey(
        Registration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="token_requests",
        verbose_name=_("cookie"),
    )
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    drm = models.CharField(_("DRM"), max_length=2, choices=DrmChoices.choices, blank=True)
    device_id = models.CharField(_("device restriction"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("token would expire at"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=TokenRequestOutcome.choices, default=TokenRequestOutcome.SENT
    )
    expressplay_code = models.IntegerField(_("ExpressPlay code"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    token_short = models.CharField(_("token"), max_length=20, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("token request")
        verbose_name_plural = _("token requests")
        indexes = [models.Index(fields=["entitlement", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.requested_at:%Y-%m-%d %H:%M:%S} ({self.get_outcome_display()})"

    @property
    def may_have_made_a_token(self) -> bool:
        return self.outcome in (
            TokenRequestOutcome.ISSUED,
            TokenRequestOutcome.LOST,
            TokenRequestOutcome.SENT,
        )


class Heartbeat(models.Model):
    """When a periodic job last finished: one row per job, updated in place by every run. /health/ and the
    Entitlements list tell by it that the job has stopped (Celery beat dead, or no worker takes its task).

    In the database, not the cache: the sweep cannot run without the database anyway, so this row adds no
    dependency, and it survives a Redis restart (a cache key would read as "never ran" after one, or while Redis
    is away). One UPDATE every BINDING_SWEEP_INTERVAL seconds.
    """

    SWEEP = "binding.work_sweep"

    name = models.CharField(_("job"), max_length=64, unique=True)
    finished_at = models.DateTimeField(_("last finished at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} ({self.finished_at:%Y-%m-%d %H:%M:%S})"


class DrmFallback(models.Model):
    """A DRM on which ExpressPlay refused device binding (-7002 Widevine, -6008 FairPlay): from `since`, its
    titles are bound by its EXPRESSPLAY_BINDING_FALLBACK mode instead of by ExpressPlay. An operator deletes the
    row to try ExpressPlay's binding again (after the account changed)."""

    drm = models.CharField(_("DRM"), max_length=2, choices=DrmChoices.choices, unique=True)
    mode = models.CharField(_("now bound"), max_length=12, choices=BindingMode.choices)
    expressplay_code = models.IntegerField(_("ExpressPlay code"), null=True, blank=True)
    detail = models.CharField(_("ExpressPlay said"), max_length=300, blank=True)
    since = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("DRM binding fallback")
        verbose_name_plural = _("DRM binding fallbacks")

    def __str__(self) -> str:
        return f"{self.get_drm_display()}: {self.get_mode_display()}"


class PlaySessionQuerySet(models.QuerySet["PlaySession"]):
    def live(self, now: datetime | None = None) -> PlaySessionQuerySet:
        """Sessions still playing: not ended, and a heartbeat within PlaySession.LIVE_FOR seconds."""
        since = (now or timezone.now()) - timedelta(seconds=PlaySession.LIVE_FOR)
        return self.filter(ended_at__isnull=True, last_seen__gte=since)


class PlaySession(models.Model):
    """One Play of a title bound by Bindery (decision 0013): the proven browser, the one-time challenge it
    signed, the short token asked for it, and its heartbeats. The licence proxy serves only a live session, to
    the browser that started it; BINDING_CONCURRENT_PLAYS live sessions per entitlement at most."""

    HEARTBEAT = 60  # seconds between the player's heartbeats
    LIVE_FOR = 2 * HEARTBEAT  # a session without a heartbeat for this long has ended (its page went away)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.CASCADE, related_name="play_sessions", verbose_name=_("entitlement")
    )
    cookie = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="play_sessions", verbose_name=_("registration")
    )
    # The challenge's nonce: unique, so a challenge starts one session at most.
    nonce = models.CharField(_("challenge nonce"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_seen = models.DateTimeField(_("last heartbeat"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("ended because"), max_length=120, blank=True)
    token_request = models.ForeignKey(
        TokenRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("token request"),
    )
    # The short token's licence URL: only Bindery's licence proxy uses it, never the browser.
    license_url = EncryptedTextField(_("licence URL"), blank=True)
    licence_requests = models.PositiveIntegerField(_("licence requests relayed"), default=0)

    objects = PlaySessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("playback session")
        verbose_name_plural = _("playback sessions")
        indexes = [models.Index(fields=["entitlement", "ended_at", "last_seen"])]

    def __str__(self) -> str:
        return f"{self.entitlement} · {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None and self.last_seen >= timezone.now() - timedelta(seconds=self.LIVE_FOR)


class PlayLicenceRequest(models.Model):
    """A signed licence request relayed for a playback session: its nonce is good once per session."""

    session = models.ForeignKey(PlaySession, on_delete=models.CASCADE, related_name="licence_request_nonces")
    nonce = models.CharField(_("nonce"), max_length=32)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("licence request")
        verbose_name_plural = _("licence requests")
        constraints = [
            models.UniqueConstraint(fields=["session", "nonce"], name="licence_nonce_once_per_session")
        ]

    def __str__(self) -> str:
        return self.nonce
