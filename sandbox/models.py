"""What the sandbox remembers: the tokens it issued (without keys) and its transaction log."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IssuedToken(models.Model):
    """A token the sandbox issued. The content key is inside the token only, never in this table."""

    jti = models.CharField(_("token id"), max_length=32, unique=True)
    drm = models.CharField(_("DRM"), max_length=2)
    kid = models.CharField(_("key id"), max_length=65)
    rights_type = models.CharField(_("rights type"), max_length=16, blank=True)
    period_end = models.DateTimeField(_("rental period end"), null=True, blank=True)
    play_duration = models.PositiveIntegerField(_("play duration (s)"), null=True, blank=True)
    cookie = models.CharField(_("cookie"), max_length=32, blank=True, db_index=True)
    device_id = models.CharField(_("device restriction"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("issued at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issued token")
        verbose_name_plural = _("issued tokens")

    def __str__(self):
        return f"{self.drm} token {self.jti[:8]}"


class Record(models.Model):
    """One redemption (licence request), granted or refused: ExpressPlay's transaction log entry."""

    event_id = models.BigAutoField(primary_key=True)
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    cookie = models.CharField(_("cookie"), max_length=32, blank=True, db_index=True)
    device_id = models.CharField(_("device id"), max_length=32, blank=True)
    drm = models.CharField(_("DRM"), max_length=2, blank=True)
    kid = models.CharField(_("key id"), max_length=65, blank=True)
    result = models.IntegerField(_("result code"), default=0, help_text=_("0 when the licence was granted."))
    message = models.CharField(_("message"), max_length=200, blank=True)
    token_jti = models.CharField(_("token id"), max_length=32, blank=True, db_index=True)
    # The signed licence request's nonce: unique, so a replayed request cannot be logged (or answered) twice.
    # Kept on the record itself, so that a redemption costs one INSERT.
    nonce = models.CharField(_("request nonce"), max_length=32, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-event_id"]
        verbose_name = _("transaction record")
        verbose_name_plural = _("transaction records")

    def __str__(self):
        return f"event {self.event_id} ({self.result})"

    @property
    def granted(self) -> bool:
        return self.result == 0

    def as_json(self) -> dict:
        return {
            "event_id": self.event_id,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "cookie": self.cookie,
            "device_id": self.device_id,
            "drm": self.drm,
            "kid": self.kid,
            "result": self.result,
            "message": self.message,
        }


# The DRMs with a token endpoint, in the order pages list them (brand names: not translated).
DRMS = (("pr", "PlayReady"), ("wv", "Widevine"), ("fp", "FairPlay"))
DRM_LIST = RegexValidator(r"^((pr|wv|fp)(,(pr|wv|fp))*)?$", _("DRM codes separated by commas, like pr,wv."))


class FaultSettings(models.Model):
    """The faults the sandbox injects (one row, set on the staff page); without it, SANDBOX_FAULTS applies.

    The row also holds the run-time switch for "does ExpressPlay bind devices on this DRM", which is not a
    fault: ExpressPlay documents -7002 and -6008 for Widevine and FairPlay, but an account may differ.
    """

    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    jitter_ms = models.PositiveIntegerField(_("random extra latency, up to (ms)"), default=0)
    server_error = models.FloatField(_("HTTP 503 rate"), default=0)
    error_code = models.FloatField(_("ExpressPlay error code rate"), default=0)
    error_codes = models.CharField(_("error codes"), max_length=100, default="-2030")
    hang = models.FloatField(_("hang rate"), default=0)
    hang_seconds = models.FloatField(_("hang for (s)"), default=15)
    drop = models.FloatField(_("lost answer rate (after the work is done)"), default=0)
    no_record = models.FloatField(_("no record yet rate"), default=0)
    # NULL is the default: SANDBOX_DEVICE_BINDING_DRMS (PlayReady only unless set), read live, so that a reset
    # puts the switch back to whatever the deployment says. Else the DRMs chosen, as "pr,wv"; "" is no DRM,
    # which is why NULL and "" must stay two values here (DJ001).
    device_binding_drms = models.CharField(  # noqa: DJ001
        _("ExpressPlay binds devices on"),
        max_length=8,
        null=True,
        blank=True,
        default=None,
        validators=[DRM_LIST],
        help_text=_("Not set: the SANDBOX_DEVICE_BINDING_DRMS setting. Empty: no DRM."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("fault settings")
        verbose_name_plural = _("fault settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="one_fault_settings_row")]

    def __str__(self):
        return str(_("Sandbox faults"))

    def device_binding(self) -> tuple[str, ...] | None:
        """The DRMs chosen on the staff page, or None for the default (the setting)."""
        if self.device_binding_drms is None:
            return None
        chosen = set(self.device_binding_drms.split(","))
        return tuple(code for code, _name in DRMS if code in chosen)

    def as_faults(self):
        from .faults import Faults

        return Faults(**{name: getattr(self, name) for name in Faults.__dataclass_fields__})
