"""The entitlement API, /api/v1/: every call authenticated by a client's API key and scoped to its customers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from binding import services as binding_services
from binding.exceptions import BindingError
from binding.expressplay.errors import explain
from binding.models import Device, Entitlement, MediaAsset

from . import services
from .authentication import request_client
from .exceptions import EndpointLimitReached
from .models import Client, ClientRegistration, ClientTitle, Customer, WebhookEndpoint
from .problems import Conflict, Unavailable, Unprocessable, problem, problem_body
from .serializers import (
    EXTERNAL_ID_PATTERN,
    CustomerSerializer,
    DeviceRenameSerializer,
    DeviceSerializer,
    EntitlementCreateSerializer,
    EntitlementSerializer,
    MoveSerializer,
    ReasonSerializer,
    RegistrationCreateSerializer,
    RegistrationSerializer,
    TitleSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)

ID = r"[0-9]{1,18}"
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string up to 255 characters: the same key again returns the first answer, and "
    "creates nothing more.",
)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _refused(exc: BindingError) -> Unprocessable | Unavailable:
    """A binding's refusal as problem details: 422, or 503 with Retry-After when ExpressPlay was only away."""
    if exc.transient:
        if exc.code is not None:
            return Unavailable(expressplay_code=exc.code, meaning=str(explain(exc.code).meaning))
        return Unavailable()
    if exc.code is not None:
        return Unprocessable(
            str(exc.message), expressplay_code=exc.code, meaning=str(explain(exc.code).meaning)
        )
    return Unprocessable(str(exc.message))


_M = TypeVar("_M", bound=Model)


class ClientScoped(viewsets.GenericViewSet[_M]):
    """Everything a view reads is the calling client's: another client's ids answer 404."""

    @property
    def client(self) -> Client:
        return request_client(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "client": self.client}


@extend_schema_view(
    list=extend_schema(summary="Your customers"),
    retrieve=extend_schema(summary="A customer"),
    create=extend_schema(summary="Create a customer (or return the existing one with this id)"),
)
class CustomerViewSet(
    ClientScoped[Customer],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Customer],
):
    serializer_class = CustomerSerializer
    lookup_field = "external_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Customer]:
        return (
            Customer.objects.filter(client=self.client)
            .select_related("user")
            .prefetch_related("user__devices")
            .order_by("created_at", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        external_id = serializer.validated_data["external_id"]
        existed = Customer.objects.filter(client=self.client, external_id=external_id).exists()
        customer = services.customer_for(self.client, external_id)
        return Response(
            self.get_serializer(customer).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(summary="A customer's devices", responses=DeviceSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def devices(self, request: Request, external_id: str | None = None) -> Response:
        customer = self.get_object()
        devices = customer.user.devices.select_related("user__api_customer").order_by("first_seen", "pk")
        return Response(DeviceSerializer(devices, many=True, context=self.get_serializer_context()).data)


@extend_schema_view(
    retrieve=extend_schema(summary="A device"),
    partial_update=extend_schema(summary="Rename a device", request=DeviceRenameSerializer),
    destroy=extend_schema(summary="Remove a device (counts against the customer's device changes)"),
)
class DeviceViewSet(ClientScoped[Device], mixins.RetrieveModelMixin, viewsets.GenericViewSet[Device]):
    serializer_class = DeviceSerializer
    lookup_value_regex = ID
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Device]:
        return Device.objects.filter(user__api_customer__client=self.client).select_related(
            "user__api_customer"
        )

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        device = self.get_object()
        rename = DeviceRenameSerializer(data=request.data)
        rename.is_valid(raise_exception=True)
        try:
            device = binding_services.device_rename(
                device=device, label=rename.validated_data["name"], actor_user=device.user
            )
        except BindingError as exc:
            raise _refused(exc) from exc
        return Response(self.get_serializer(device).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        device = self.get_object()
        try:
            binding_services.device_remove(device=device, actor_user=device.user, reason=_("via the API"))
        except BindingError as exc:
            raise _refused(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    retrieve=extend_schema(summary="A device check: its state and, once bound, the device"),
    create=extend_schema(
        summary="Start a device check for a customer",
        request=RegistrationCreateSerializer,
        responses={201: RegistrationSerializer},
    ),
)
class RegistrationViewSet(
    ClientScoped[ClientRegistration],
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[ClientRegistration],
):
    serializer_class = RegistrationSerializer
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[ClientRegistration]:
        return ClientRegistration.objects.filter(customer__client=self.client).select_related(
            "customer", "cookie__device"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = RegistrationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        customer = services.customer_for(self.client, given.validated_data["customer"])
        registration = services.registration_start(
            customer=customer,
            device_name=given.validated_data.get("device_name", ""),
            # The customer's browser, if the backend passes it on: the API call itself comes from a server.
            user_agent=given.validated_data.get("user_agent", ""),
        )
        return Response(self.get_serializer(registration).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Your titles"),
    retrieve=extend_schema(summary="A title (its key is never returned)"),
    create=extend_schema(summary="Register a title's content key id, key and manifest"),
)
class TitleViewSet(
    ClientScoped[ClientTitle],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[ClientTitle],
):
    serializer_class = TitleSerializer
    lookup_field = "content_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[ClientTitle]:
        return (
            ClientTitle.objects.filter(client=self.client)
            .select_related("asset")
            .order_by("created_at", "pk")
        )

    def perform_create(self, serializer: serializers.BaseSerializer[ClientTitle]) -> None:
        data = serializer.validated_data
        if ClientTitle.objects.filter(client=self.client, content_id=data["content_id"]).exists():
            raise Conflict(_("You already have a title with this id."))
        kid = data["asset"]["kid"].lower()
        if MediaAsset.objects.filter(kid=kid).exists():
            raise Conflict(_("A title with this key id exists already."))
        try:
            serializer.instance = services.title_register(
                client=self.client,
                content_id=data["content_id"],
                name=data["asset"]["name"],
                kid=kid,
                key=data["key"].lower(),
                manifest=data["asset"]["manifest"],
                hls_manifest=data["asset"].get("hls_manifest", ""),
                iv=data["asset"].get("iv", "").lower(),
            )
        except IntegrityError as exc:  # registered by a concurrent call between the checks and the insert
            raise Conflict(_("You already have a title with this id or key id.")) from exc


@extend_schema_view(
    list=extend_schema(
        summary="Entitlements, newest first",
        parameters=[OpenApiParameter("customer", OpenApiTypes.STR, description="Only this customer's.")],
    ),
    retrieve=extend_schema(summary="An entitlement: its state and, once ready, the device-bound token URL"),
)
class EntitlementViewSet(
    ClientScoped[Entitlement],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Entitlement],
):
    serializer_class = EntitlementSerializer
    lookup_value_regex = ID
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Entitlement]:
        entitlements = (
            Entitlement.objects.filter(user__api_customer__client=self.client)
            .select_related("user__api_customer", "device", "asset")
            .prefetch_related(
                Prefetch("asset__api_titles", queryset=ClientTitle.objects.filter(client=self.client))
            )
            .order_by("-created_at", "-pk")
        )
        if self.action == "list" and (customer := self.request.query_params.get("customer")) is not None:
            if not re.fullmatch(EXTERNAL_ID_PATTERN, customer):
                raise ValidationError({"customer": [_("No customer has such an id.")]})
            entitlements = entitlements.filter(user__api_customer__external_id=customer)
        return entitlements

    @extend_schema(
        summary="Create an entitlement: buy to own or rent, bound to the customer's device",
        request=EntitlementCreateSerializer,
        responses={201: EntitlementSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        if len(key) > 255 or not key.isprintable():
            raise ValidationError({"Idempotency-Key": [_("Use at most 255 printable characters.")]})
        if not key:
            return self._create(request)
        fingerprint = services.request_fingerprint("POST", "entitlements", request.data)
        with transaction.atomic():
            # The key is taken first, inside the transaction that creates the entitlement: a concurrent
            # request with the same key waits for this one, then finds its answer.
            taken, answer = services.idempotency_key_take(self.client, key, fingerprint)
            if not taken:
                if answer.fingerprint != fingerprint:
                    raise Unprocessable(_("This Idempotency-Key was used for a different request."))
                replay = Response(answer.body, status=answer.status)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = self._create(request)  # an error rolls the key back with the rest: a retry may run
            services.idempotency_answer_keep(answer, response.status_code, response.data)
            return response

    def _create(self, request: Request) -> Response:
        given = EntitlementCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        titles = ClientTitle.objects.filter(client=self.client, content_id=data["title"]).select_related(
            "asset"
        )
        if not (title := titles.first()):
            raise ValidationError({"title": [_("You have no title with this id.")]})
        customer = services.customer_for(self.client, data["customer"])
        try:
            entitlement = services.entitlement_grant(
                customer=customer, asset=title.asset, policy=data["policy"], device_id=data.get("device")
            )
        except BindingError as exc:
            raise _refused(exc) from exc
        entitlement = self.get_queryset().get(pk=entitlement.pk)
        return Response(self.get_serializer(entitlement).data, status=status.HTTP_201_CREATED)

    def _act(
        self,
        request: Request,
        pk: str | None,
        serializer_class: type[serializers.Serializer[dict[str, Any]]],
        act: Callable[[Entitlement, dict[str, Any]], bool],
    ) -> Response:
        """Run `act` on the entitlement with the request's `serializer_class` data; `act` says whether it
        queued work (202) or not (200)."""
        entitlement = self.get_object()
        given = serializer_class(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            queued = act(entitlement, given.validated_data)
        except BindingError as exc:
            raise _refused(exc) from exc
        entitlement = self.get_queryset().get(pk=entitlement.pk)
        return Response(
            {**self.get_serializer(entitlement).data, "queued": bool(queued)},
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK,
        )

    @extend_schema(summary="Renew the token for the same device (when it has expired)", request=None)
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request,
            pk,
            ReasonSerializer,
            lambda e, _d: binding_services.entitlement_renew(entitlement=e, actor_user=e.user),
        )

    @extend_schema(summary="Revoke: no more tokens are handed out or renewed", request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        def revoke(entitlement: Entitlement, data: dict[str, Any]) -> bool:
            reason = data.get("reason") or _("via the API")
            binding_services.entitlement_revoke(
                entitlement=entitlement, actor_user=entitlement.user, reason=reason
            )
            return False

        return self._act(request, pk, ReasonSerializer, revoke)

    @extend_schema(
        summary="Move to another of the customer's devices (a device change)", request=MoveSerializer
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        def move(entitlement: Entitlement, data: dict[str, Any]) -> bool:
            device = Device.objects.filter(pk=data["device"], user=entitlement.user).first()
            if device is None:
                raise ValidationError({"device": [_("The customer has no device with this id.")]})
            return binding_services.entitlement_move(
                entitlement=entitlement,
                device=device,
                actor_user=entitlement.user,
                reason=data.get("reason", ""),
            )

        return self._act(request, pk, MoveSerializer, move)


@extend_schema_view(
    list=extend_schema(summary="Your webhook endpoints"),
    retrieve=extend_schema(summary="A webhook endpoint and its latest deliveries"),
    create=extend_schema(
        summary="Add an HTTPS endpoint: its signing secret is in this answer only (at most "
        "WEBHOOK_MAX_ENDPOINTS per client)"
    ),
    destroy=extend_schema(summary="Remove an endpoint"),
)
class WebhookViewSet(
    ClientScoped[WebhookEndpoint],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[WebhookEndpoint],
):
    serializer_class = WebhookSerializer
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(client=self.client).order_by("pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            endpoint = services.webhook_endpoint_create(
                client=self.client, url=serializer.validated_data["url"]
            )
        except EndpointLimitReached as exc:
            return problem(400, "too_many_endpoints", exc.message)
        shown = WebhookSerializer(endpoint, context={**self.get_serializer_context(), "show_secret": True})
        return Response(shown.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rotate the signing secret: the new one is in this answer only; the previous one keeps signing "
        "next to it for WEBHOOK_SECRET_GRACE seconds (24 h)",
        request=None,
        responses=WebhookSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        endpoint = services.webhook_secret_rotate(endpoint=self.get_object())
        shown = WebhookSerializer(endpoint, context={**self.get_serializer_context(), "show_secret": True})
        return Response(shown.data)

    @extend_schema(summary="An endpoint's latest deliveries", responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        return Response(WebhookDeliverySerializer(endpoint.deliveries.all()[:50], many=True).data)


@csrf_exempt  # whatever the method: a POST to a wrong address is a 404 problem, not the CSRF page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other address under /api/: a problem-details 404 (a plain Django view: no API key is asked)."""
    body = problem_body(404, "not_found", _("There is nothing at this address in the API."))
    return JsonResponse(body, status=404, content_type="application/problem+json")
