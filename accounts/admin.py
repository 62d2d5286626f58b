"""Admin for the outbox and customers' profiles. accounts is a leaf, so its admins build on the toolkit's
leaf part, adminkit (decision 0017), not on binding.admin.toolkit."""

from django.contrib import admin

from adminkit import HostileInputMixin

from .models import OutgoingMail, Profile


@admin.register(OutgoingMail)
class OutgoingMailAdmin(HostileInputMixin, admin.ModelAdmin):
    """The outbox, read-only: what was sent to whom, and what is still waiting (the mail server away)."""

    list_display = ["created_at", "kind", "to", "state", "attempts", "sent_at", "subject"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "key", "user__username", "user__email"]
    exclude = ["context"]  # a reset link is a credential
    readonly_fields = [f.name for f in OutgoingMail._meta.fields if f.name != "context"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(HostileInputMixin, admin.ModelAdmin):
    list_display = ["user", "language"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
