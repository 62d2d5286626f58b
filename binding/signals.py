"""What binding tells the apps above it: a named signal, sent from its one writer, instead of another app
listening to post_save on binding's models (which the import graph cannot see)."""

from django.dispatch import Signal

# Sent by binding.services._common._event, inside the transaction of the change, once a BindingEvent is
# written. Receivers get `event` (the BindingEvent) and write in that same transaction (the webhook outbox).
binding_event_recorded = Signal()
