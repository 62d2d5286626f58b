"""What goes over the wire: the API's requests and answers. Content keys are write-only.

Plain (not model) serializers read and answer dicts: they are `Serializer[dict[str, Any]]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from binding.expressplay.errors import explain
from binding.models import Device, Entitlement, EntitlementKind

from .models import Client, ClientRegistration, ClientTitle, Customer, WebhookDelivery, WebhookEndpoint
from .validators import endpoint_url_allowed

if TYPE_CHECKING:
    from rest_framework.request import Request

# A client's own id of a customer or title: in bodies (EXTERNAL_ID) and in URLs (views' lookup_value_regex).
EXTERNAL_ID_PATTERN = r"[A-Za-z0-9._@:+-]{1,100}"
EXTERNAL_ID = RegexValidator(
    rf"^{EXTERNAL_ID_PATTERN}$",
    _("Use 1 to 100 letters, digits and . _ @ : + - (your own id of the customer or title)."),
)
HEX32 = RegexValidator(r"^[0-9a-fA-F]{32}$", _("Give 32 hexadecimal characters (16 bytes)."))


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    id = serializers.CharField(source="external_id", validators=[EXTERNAL_ID], max_length=100)
    devices = serializers.SerializerMethodField(help_text="How many registered devices the customer has.")

    class Meta:
        model = Customer
        fields = ["id", "created_at", "devices"]
        read_only_fields = ["created_at"]

    def get_devices(self, customer: Customer) -> int:
        return sum(1 for device in customer.user.devices.all() if device.is_active)


class DeviceSerializer(serializers.ModelSerializer[Device]):
    name = serializers.CharField(source="label", max_length=80, min_length=1)
    customer = serializers.CharField(source="user.api_customer.external_id", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "customer", "name", "drm", "active", "first_seen", "last_seen", "removed_at"]
        read_only_fields = ["id", "drm", "first_seen", "last_seen", "removed_at"]


class DeviceRefSerializer(serializers.ModelSerializer[Device]):
    name = serializers.CharField(source="label")

    class Meta:
        model = Device
        fields = ["id", "name", "drm"]


class DeviceRenameSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=80, min_length=1, trim_whitespace=True)


class DeviceCheck(TypedDict):
    """A registration's device check, for the drop-in script (DeviceCheckSerializer documents it)."""

    manifest_url: str
    start_url: str
    key_system: str


class DeviceCheckSerializer(serializers.Serializer[dict[str, Any]]):
    manifest_url = serializers.CharField(help_text="The device-check clip's DASH manifest.")
    start_url = serializers.CharField(
        help_text="POST here when the customer's browser starts the check: it answers the device-check token's "
        "licence URL, once (a check proves one device, once; 409 after that). The drop-in script does this."
    )
    key_system = serializers.CharField()


class RegistrationCreateSerializer(serializers.Serializer[dict[str, Any]]):
    customer = serializers.CharField(validators=[EXTERNAL_ID], max_length=100, help_text="Your customer id.")
    device_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    user_agent = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="The customer's browser's User-Agent, if you have it: names the device when no name is given.",
    )


class RegistrationSerializer(serializers.ModelSerializer[ClientRegistration]):
    customer = serializers.CharField(source="customer.external_id")
    state = serializers.CharField(source="cookie.effective_state")
    done = serializers.SerializerMethodField()
    ok = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="Where the check is, in the customer's words.")
    device = DeviceRefSerializer(source="cookie.device", allow_null=True)
    expires_at = serializers.DateTimeField(source="cookie.expires_at")
    device_check = serializers.SerializerMethodField()
    script_url = serializers.SerializerMethodField(help_text="The drop-in device-check script to include.")

    class Meta:
        model = ClientRegistration
        fields = [
            "id",
            "reference",
            "customer",
            "state",
            "done",
            "ok",
            "message",
            "device",
            "expires_at",
            "device_check",
            "script_url",
            "created_at",
        ]

    def _status(self, registration: ClientRegistration) -> dict[str, Any]:
        from binding.selectors import registration_status

        # Kept on the row (as cached_property does), so that done, ok and message read one status.
        cached = registration.__dict__
        if "_status" not in cached:
            cached["_status"] = registration_status(registration.cookie)
        status: dict[str, Any] = cached["_status"]
        return status

    def get_done(self, registration: ClientRegistration) -> bool:
        done: bool = self._status(registration)["done"]
        return done

    def get_ok(self, registration: ClientRegistration) -> bool:
        ok: bool = self._status(registration)["ok"]
        return ok

    def get_message(self, registration: ClientRegistration) -> str:
        return str(self._status(registration)["message"])

    @extend_schema_field(DeviceCheckSerializer(allow_null=True))
    def get_device_check(self, registration: ClientRegistration) -> DeviceCheck | None:
        from django.urls import reverse

        from binding.selectors import device_check_asset
        from binding.services.drm import key_system

        asset, cookie = device_check_asset(), registration.cookie
        if asset is None or cookie.effective_state != "created":
            return None  # started, or over: the check's token is never handed out again
        return {
            "manifest_url": self._absolute(asset.manifest_url),
            "start_url": self._absolute(reverse("api:check-start", args=[registration.reference])),
            "key_system": key_system(cookie.drm),
        }

    def get_script_url(self, registration: ClientRegistration) -> str:
        from django.templatetags.static import static

        return self._absolute(static("js/bindery-check.js"))

    def _absolute(self, path: str) -> str:
        request: Request | None = self.context.get("request")
        public_url: str = settings.BINDERY_PUBLIC_URL
        return request.build_absolute_uri(path) if request is not None else public_url + path


class TitleSerializer(serializers.ModelSerializer[ClientTitle]):
    id = serializers.CharField(source="content_id", validators=[EXTERNAL_ID], max_length=100)
    name = serializers.CharField(source="asset.name", max_length=120)
    kid = serializers.CharField(source="asset.kid", validators=[HEX32], help_text="The content key id (hex).")
    key = serializers.CharField(
        write_only=True, validators=[HEX32], help_text="The content key (hex). Write-only: never read back."
    )
    manifest_url = serializers.URLField(
        source="asset.manifest", max_length=200, help_text="Where players load the title's DASH manifest."
    )
    hls_manifest_url = serializers.URLField(
        source="asset.hls_manifest",
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The title's cbcs HLS master playlist, which FairPlay devices play (needed to sell to them).",
    )
    iv = serializers.CharField(
        source="asset.iv",
        validators=[HEX32],
        required=False,
        allow_blank=True,
        help_text="The IV of the HLS rendition's cbcs encryption (hex): FairPlay tokens must carry it.",
    )

    class Meta:
        model = ClientTitle
        fields = ["id", "name", "kid", "key", "manifest_url", "hls_manifest_url", "iv", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        asset = attrs.get("asset", {})
        if bool(asset.get("hls_manifest")) != bool(asset.get("iv")):
            raise serializers.ValidationError(
                _("A FairPlay rendition needs both hls_manifest_url and its iv, or neither.")
            )
        return attrs

    def to_representation(self, title: ClientTitle) -> dict[str, Any]:
        data = super().to_representation(title)
        request: Request | None = self.context.get("request")
        url = title.asset.manifest_url
        data["manifest_url"] = request.build_absolute_uri(url) if request is not None else url
        return data


class PolicySerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=EntitlementKind.choices, help_text="buy (to own) or rent.")
    rental_hours = serializers.IntegerField(
        min_value=1, max_value=24 * 366, required=False, help_text="A rental's length (needed for rent)."
    )
    play_hours = serializers.IntegerField(
        min_value=1, max_value=24 * 366, required=False, help_text="Viewing time once play starts (rent)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["type"] == EntitlementKind.RENT and not attrs.get("rental_hours"):
            raise serializers.ValidationError({"rental_hours": _("A rental needs rental_hours.")})
        if attrs["type"] == EntitlementKind.BUY and (attrs.get("rental_hours") or attrs.get("play_hours")):
            raise serializers.ValidationError(_("A purchase has no rental_hours or play_hours."))
        return attrs


class EntitlementCreateSerializer(serializers.Serializer[dict[str, Any]]):
    customer = serializers.CharField(validators=[EXTERNAL_ID], max_length=100)
    title = serializers.CharField(validators=[EXTERNAL_ID], max_length=100, help_text="The title's id.")
    policy = PolicySerializer()
    device = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text="Bind to this device (default: the latest)."
    )


class EntitlementError(TypedDict):
    """Why an entitlement failed, for the client (EntitlementErrorSerializer documents it)."""

    expressplay_code: int | None
    expressplay_meaning: str
    reason: str | None
    message: str


class EntitlementErrorSerializer(serializers.Serializer[dict[str, Any]]):
    expressplay_code = serializers.IntegerField(allow_null=True)
    expressplay_meaning = serializers.CharField()
    reason = serializers.CharField(
        allow_null=True,
        help_text="Why Bindery itself did not issue, when it was not ExpressPlay: `device_check_needed` means no "
        "device that passed this customer's device check could be named (ExpressPlay's records name another "
        "device, or the device was removed). Nothing was issued to anyone: run a new device check for the "
        "customer, then create the entitlement again.",
    )
    message = serializers.CharField(help_text="What happened, in the customer's words.")


class EntitlementSerializer(serializers.ModelSerializer[Entitlement]):
    customer = serializers.CharField(source="user.api_customer.external_id")
    title = serializers.SerializerMethodField()
    policy = serializers.CharField(source="kind")
    state = serializers.CharField(source="effective_state")
    device = DeviceRefSerializer(allow_null=True)
    token_url = serializers.SerializerMethodField(help_text="The device-bound licence URL, once ready.")
    bound_by = serializers.CharField(
        read_only=True,
        help_text="Who enforces the binding: expressplay (the token carries the device restriction) or bindery "
        "(no token URL is handed out; Bindery issues short tokens at each Play, decision 0013).",
    )
    manifest_url = serializers.SerializerMethodField(
        help_text="What the device's DRM plays: the DASH manifest, or the HLS playlist for FairPlay."
    )
    error = serializers.SerializerMethodField()

    class Meta:
        model = Entitlement
        fields = [
            "id",
            "customer",
            "title",
            "policy",
            "state",
            "progress",
            "device",
            "bound_by",
            "manifest_url",
            "token_url",
            "token_expires_at",
            "rental_ends_at",
            "play_duration",
            "first_played_at",
            "error",
            "created_at",
            "updated_at",
        ]

    def get_title(self, entitlement: Entitlement) -> str:
        client: Client = self.context["client"]
        return next(
            (t.content_id for t in entitlement.asset.api_titles.all() if t.client_id == client.pk), ""
        )

    def get_token_url(self, entitlement: Entitlement) -> str | None:
        # A Bindery-bound title has no lasting token: its token is issued at each Play to the proven device.
        if entitlement.bound_by == "bindery":
            return None
        return entitlement.license_url if entitlement.effective_state == "ready" else None

    def get_manifest_url(self, entitlement: Entitlement) -> str:
        asset = entitlement.asset
        fairplay = entitlement.device is not None and entitlement.device.drm == "fp"
        url = asset.hls_manifest_url if fairplay and asset.hls_manifest else asset.manifest_url
        request: Request | None = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None and url.startswith("/") else url

    @extend_schema_field(EntitlementErrorSerializer(allow_null=True))
    def get_error(self, entitlement: Entitlement) -> EntitlementError | None:
        if entitlement.effective_state != "failed":
            return None
        # The code and its meaning only: the detail on record is Bindery's operators' (admin shows it).
        from binding.selectors import entitlement_status

        return {
            "expressplay_code": entitlement.error_code,
            "expressplay_meaning": str(explain(entitlement.error_code).meaning),
            "reason": entitlement.failure or None,
            "message": entitlement_status(entitlement)["message"],
        }


class ReasonSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class MoveSerializer(serializers.Serializer[dict[str, Any]]):
    device = serializers.IntegerField(min_value=1, max_value=2**62)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class WebhookSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (`whsec_<base64>`, Standard Webhooks): returned once, when the endpoint is "
        "created or its secret rotated."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="After a rotation: until when deliveries carry a second signature, by the previous secret.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "active", "secret", "previous_secret_expires_at", "created_at"]
        read_only_fields = ["id", "active", "created_at"]

    def validate_url(self, url: str) -> str:
        if not endpoint_url_allowed(url):
            raise serializers.ValidationError(
                _("Give an HTTPS address on the internet (not in a private network or on this machine).")
            )
        return url

    def get_secret(self, endpoint: WebhookEndpoint) -> str | None:
        return endpoint.secret if self.context.get("show_secret") else None


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = [
            "event_id",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "response_status",
            "delivered_at",
            "created_at",
        ]
