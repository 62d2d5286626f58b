"""The broker, faked at its edge: every Bindery task queued with `apply_async` is collected, none is sent."""

from __future__ import annotations

ENTITLEMENT_ISSUE = "binding.entitlement_issue"
DEVICE_CONFIRM = "binding.device_confirm"
WEBHOOK_DELIVER = "api.webhook_deliver"


class QueuedTasks(list):
    """The tasks handed to the broker during a test, in order, as (task name, id) pairs: every Bindery task
    takes the one id of the row it works on. The queue each went to is kept alongside (`queues`)."""

    def __init__(self):
        super().__init__()
        self._queues: list[str | None] = []
        self._refusal: Exception | None = None

    def ids(self, task: str) -> list:
        """Return the ids queued for `task`, in order."""
        return [pk for name, pk in self if name == task]

    def queues(self, task: str | None = None) -> list[str | None]:
        """Return the queue each task (each `task`, when given) was sent to, in order."""
        return [queue for (name, _), queue in zip(self, self._queues, strict=True) if task in (None, name)]

    def refuse(self, error: Exception) -> None:
        """Make the broker refuse every task from now on, raising `error` (a broker that is away)."""
        self._refusal = error

    def clear(self) -> None:
        super().clear()
        self._queues.clear()

    def _send(self, name: str, args, queue: str | None = None, **options) -> None:
        if self._refusal is not None:
            raise self._refusal
        self.append((name, args[0]))
        self._queues.append(queue)
