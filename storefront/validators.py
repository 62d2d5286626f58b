"""What the shop accepts into its catalogue: slugs that are slugs, and posters that are images.

A title's slug names its folder under MEDIA_ROOT and its address in the shop: `../x` would write outside the
one and break the other (the catalogue could not link to it).

A poster is served from the shop's own origin; a file that is HTML or script there is stored XSS. So a poster
must be a JPEG, PNG or WebP image by its content (Pillow reads it), and named as its format is, since the
name is what gives it its Content-Type when it is served.
"""

from __future__ import annotations

from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import slug_re
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext_lazy as _
from PIL import Image

TITLE_SLUG_MAX_LENGTH = 50
# Pillow's format name → the file name endings it may be stored under.
POSTER_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WEBP": (".webp",)}
POSTER_EXTENSIONS = tuple(ending for endings in POSTER_FORMATS.values() for ending in endings)


def validate_poster_image(file: File) -> None:
    """Raise ValidationError unless `file` is a JPEG, PNG or WebP image named with its format's ending.

    A poster already stored is not read again: it was checked when it came.
    """
    if isinstance(file, FieldFile) and file._committed:
        return
    try:
        file.seek(0)
        with Image.open(file) as image:
            found = image.format
            image.verify()
    except Exception as exc:  # Pillow raises many kinds for a file it cannot read; each means "not an image"
        raise ValidationError(
            _("Upload a JPEG, PNG or WebP image: this file is not one."), code="not_an_image"
        ) from exc
    finally:
        file.seek(0)
    if found not in POSTER_FORMATS:
        raise ValidationError(
            _("This is a %(format)s image: upload a JPEG, PNG or WebP one."),
            code="image_format",
            params={"format": found},
        )
    endings = POSTER_FORMATS[found]
    if PurePath(file.name or "").suffix.lower() not in endings:
        raise ValidationError(
            _("A %(format)s image's file name must end in %(ending)s."),
            code="image_name",
            params={"format": "WebP" if found == "WEBP" else found, "ending": endings[0]},
        )


def validate_title_slug(slug: str) -> None:
    """Raise ValidationError unless `slug` is a slug (ASCII letters, digits, hyphens, underscores) that fits."""
    if not slug_re.fullmatch(slug):
        raise ValidationError(
            _("“%(slug)s” is not a slug: use letters, digits, hyphens and underscores only."),
            code="invalid_slug",
            params={"slug": slug},
        )
    if len(slug) > TITLE_SLUG_MAX_LENGTH:
        raise ValidationError(
            _("A slug has at most %(limit)s characters."),
            code="slug_too_long",
            params={"limit": TITLE_SLUG_MAX_LENGTH},
        )
