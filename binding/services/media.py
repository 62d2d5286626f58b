"""Media: a clear clip encrypted with a key of its own, on record as a MediaAsset."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .. import packaging
from ..models import MediaAsset


def media_asset_package(
    slug: str, source: Path, *, name: str = "", progress: Callable[[str], None] | None = None
) -> MediaAsset:
    """Encrypt `source` (H.264/AAC MP4) with a fresh random key id, key and FairPlay IV into MEDIA_ROOT, as
    cenc DASH (Widevine, PlayReady, ClearKey) and cbcs HLS (FairPlay), and keep all three.

    Packaging a slug again gives it new keys: the old files go once the new ones are committed, so a player
    that loaded the old manifest keeps its segments until then. `progress` is told which rendition is being
    packaged (packaging.DASH_FOR, packaging.HLS_FOR). Raises packaging.PackagingError.
    """
    kid, key, iv = secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16)
    folder = f"{slug}-{kid[:8]}"
    result = packaging.package(
        source, Path(settings.MEDIA_ROOT) / folder, kid=kid, key=key, iv=iv, progress=progress
    )
    with transaction.atomic():
        previous = MediaAsset.objects.select_for_update().filter(slug=slug).first()
        asset, _ = MediaAsset.objects.update_or_create(
            slug=slug,
            defaults={
                "kid": kid,
                "key": key,
                "iv": iv,
                "manifest": f"{folder}/manifest.mpd",
                "hls_manifest": f"{folder}/{packaging.HLS_FOLDER}/master.m3u8",
                "duration": result.duration,
                **({"name": name} if name else {}),
            },
        )
        if previous and previous.manifest.split("/")[0] != folder:
            stale = Path(settings.MEDIA_ROOT) / previous.manifest.split("/")[0]
            transaction.on_commit(lambda: shutil.rmtree(stale, ignore_errors=True))
    return asset
