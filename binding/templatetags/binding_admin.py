"""Pieces of the operators' admin pages: the index's "Needs attention" panel."""

from typing import Any

from django import template
from django.template import Context
from django.urls import reverse

from ..models import Entitlement

register = template.Library()


@register.inclusion_tag("admin/binding/_needs_attention.html", takes_context=True)
def needs_attention(context: Context) -> dict[str, Any]:
    """Failed orders that nothing retries on their own (Entitlement.objects.needs_support: refused, not
    bindable, out of automatic retries), counted, with a link to them: what "support has been told" on the
    customer's order page means. One query; nothing for a staff member who may not see entitlements."""
    request = context["request"]
    if not request.user.has_perm("binding.view_entitlement"):
        return {"count": 0}
    return {
        "count": Entitlement.objects.needs_support().count(),
        "url": f"{reverse('admin:binding_entitlement_changelist')}?attention=support",
    }
