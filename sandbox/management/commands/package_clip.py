import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sandbox.packager import PackagingError, package_clip


class Command(BaseCommand):
    help = "CENC-encrypt a clip folder (video.mp4, audio.mp4) into OUT_DIR with a DASH manifest; print JSON."

    def add_arguments(self, parser):
        parser.add_argument("source_dir", type=Path)
        parser.add_argument("out_dir", type=Path)
        parser.add_argument("--kid", required=True, help="32 hex characters")
        parser.add_argument("--key", required=True, help="32 hex characters (never logged)")

    def handle(self, *args, source_dir, out_dir, kid, key, **options):
        try:
            result = package_clip(source_dir, out_dir, kid=bytes.fromhex(kid), key=bytes.fromhex(key))
        except (PackagingError, ValueError, OSError) as exc:
            raise CommandError(f"Could not package {source_dir}: {exc}") from exc
        return json.dumps(
            {"manifest": str(result.manifest), "duration": result.duration, "size": result.size}
        )
