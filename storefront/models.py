"""The shop: titles, their offers, and orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from binding.models import Entitlement, EntitlementKind, EntitlementState, MediaAsset

from .validators import TITLE_SLUG_MAX_LENGTH, validate_poster_image


class Title(models.Model):
    slug = models.SlugField(_("slug"), unique=True, max_length=TITLE_SLUG_MAX_LENGTH)
    name = models.CharField(_("name"), max_length=120)
    synopsis = models.TextField(_("synopsis"))
    year = models.PositiveIntegerField(_("year"))
    poster = models.CharField(
        _("poster"), max_length=200, blank=True, help_text=_("A static file path (the demo's own posters).")
    )
    poster_image = models.FileField(
        _("poster image"),
        upload_to="posters/",
        blank=True,
        validators=[validate_poster_image],
        help_text=_(
            "An uploaded poster, 2:3, a JPEG, PNG or WebP image; used instead of the static one (add_title "
            "takes a frame)."
        ),
    )
    asset = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, related_name="titles", verbose_name=_("media")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("title")
        verbose_name_plural = _("titles")
        # The catalogue's order: a page of a catalogue of thousands is read off the index, never sorted.
        indexes = [models.Index(fields=["name", "id"], name="title_catalogue_order")]

    def __str__(self):
        return self.name

    @property
    def poster_url(self) -> str:
        if self.poster_image:
            return self.poster_image.url
        return static(self.poster or "img/posters/none.svg")

    @property
    def running_time(self) -> timedelta:
        return timedelta(seconds=round(self.asset.duration))


class OfferQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Offer(models.Model):
    """A way to get a title: buy it to own, or rent it for a period (and a viewing time after first play)."""

    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="offers", verbose_name=_("title"))
    kind = models.CharField(_("kind"), max_length=4, choices=EntitlementKind.choices)
    price = models.DecimalField(
        _("price"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    rental_hours = models.PositiveIntegerField(_("rental period (hours)"), null=True, blank=True)
    play_hours = models.PositiveIntegerField(
        _("viewing time after first play (hours)"), null=True, blank=True
    )
    active = models.BooleanField(_("on sale"), default=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["title", "kind"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="buy") | Q(rental_hours__isnull=False), name="rent_offer_has_period"
            ),
            models.UniqueConstraint(
                fields=["title", "kind"], condition=Q(active=True), name="one_active_offer_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.title} · {self.get_kind_display()} · {self.price} {self.currency}"


def _order_number() -> str:
    import secrets

    return "BND-" + secrets.token_hex(4).upper()


class Order(models.Model):
    """One checkout: what was bought, for how much, and the entitlement it created.

    Its status is the entitlement's issuing outcome, so it is derived, not stored.
    """

    number = models.CharField(_("order number"), max_length=16, unique=True, default=_order_number)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="orders", verbose_name=_("title"))
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("offer"))
    kind = models.CharField(_("kind"), max_length=4, choices=EntitlementKind.choices)
    price = models.DecimalField(_("price"), max_digits=8, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    payment_reference = models.CharField(_("payment reference"), max_length=40)
    entitlement = models.OneToOneField(
        Entitlement, on_delete=models.PROTECT, related_name="order", verbose_name=_("entitlement")
    )
    created_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return self.number

    @property
    def status(self) -> str:
        """Return "revoked" or "expired" for an order that can no longer be watched, else "pending",
        "fulfilled" or "failed": whether a token was ever issued for this order."""
        state = self.entitlement.effective_state
        if state in (EntitlementState.REVOKED, EntitlementState.EXPIRED):
            return state
        if self.entitlement.tokens_issued or state == EntitlementState.READY:
            return "fulfilled"
        if self.entitlement.state == EntitlementState.PENDING:
            return "pending"
        return "failed"


class SpentSignInLink(models.Model):
    """A presenter's sign-in link that has signed a browser in: its nonce, so that it never does again.

    Nothing is written when the link is made (the presenter's page is a GET); the sign-in spends it. The
    unique nonce is what keeps it to one sign-in, even for two requests at the same moment.
    """

    nonce = models.CharField(_("nonce"), max_length=32, unique=True)
    spent_at = models.DateTimeField(_("spent at"), default=timezone.now)

    class Meta:
        verbose_name = _("spent sign-in link")
        verbose_name_plural = _("spent sign-in links")

    def __str__(self):
        return self.nonce


class PasswordResetRequest(models.Model):
    """A password-reset request that was let through (a mail went, if the address has an account): what the
    throttle counts, per address and per client. Keyed digests of both, not the values: a stranger's typing
    is not kept."""

    address_digest = models.CharField(_("address digest"), max_length=64)
    client_digest = models.CharField(_("client digest"), max_length=64)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("password-reset request")
        verbose_name_plural = _("password-reset requests")
        indexes = [
            models.Index(fields=["address_digest", "requested_at"], name="reset_by_address"),
            models.Index(fields=["client_digest", "requested_at"], name="reset_by_client"),
        ]

    def __str__(self):
        return f"{self.requested_at:%Y-%m-%d %H:%M}"
