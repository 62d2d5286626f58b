from typing import Any

from django.core.management.base import BaseCommand, CommandError

from binding.services import expressplay_connection_check


class Command(BaseCommand):
    help = "Check that the configured ExpressPlay environment (or the sandbox) accepts our authenticator."

    def handle(self, *args: Any, **options: Any) -> None:
        report = expressplay_connection_check()
        if report.ok:
            self.stdout.write(
                f"ExpressPlay {report.environment}: OK ({report.records_seen} recent records visible)."
            )
            return
        code = f" error {report.error_code}" if report.error_code is not None else ""
        raise CommandError(
            f"ExpressPlay {report.environment}{code}: {report.meaning} {report.advice}".strip()
        )
