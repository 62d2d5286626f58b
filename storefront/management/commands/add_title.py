from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from binding.packaging import PackagingError
from storefront.services import NewTitle, title_add
from storefront.validators import validate_title_slug


def _price(value: str) -> Decimal | None:
    if value.lower() in {"", "none", "no"}:
        return None
    try:
        price = Decimal(value)
    except InvalidOperation as exc:
        raise CommandError(f"{value!r} is not a price (say 4.99, or 'none' for no such offer)") from exc
    if price < 0:
        raise CommandError("a price cannot be negative")
    return price


class Command(BaseCommand):
    help = (
        "Add your own clip to the catalogue: transcoded, CENC-encrypted into DASH with a key of its own by "
        "Shaka Packager, a poster from one of its frames, and a buy and a rent offer."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a video file FFmpeg can read (MP4, MOV, MKV, WebM...)")
        parser.add_argument("--title", required=True, help="the name shown in the shop")
        parser.add_argument("--synopsis", default="", help="a sentence or two for the title's page")
        parser.add_argument("--year", type=int, help="the year shown beside the name (default: this year)")
        parser.add_argument("--slug", default="", help="its address in the shop (default: from the title)")
        parser.add_argument("--buy", default="4.99", help="buy-to-own price, or 'none'")
        parser.add_argument("--rent", default="1.99", help="rental price, or 'none'")
        parser.add_argument("--rental-hours", type=int, default=48, help="how long a rental lasts")
        parser.add_argument("--play-hours", type=int, default=3, help="viewing time after first play")
        parser.add_argument("--poster-at", type=float, help="seconds into the clip for the poster frame")

    def handle(
        self, *args, file, title, synopsis, year, slug, buy, rent, rental_hours, play_hours, poster_at, **_
    ):
        new = NewTitle(
            name=title.strip(),
            synopsis=synopsis,
            year=year,
            slug=slug,
            buy=_price(buy),
            rent=_price(rent),
            rental_hours=rental_hours,
            play_hours=play_hours,
            poster_at=poster_at,
        )
        if not new.name:
            raise CommandError("--title cannot be empty")
        if new.buy is None and new.rent is None:
            raise CommandError("a title needs at least one offer: drop --buy none or --rent none")
        if slug:
            try:
                validate_title_slug(slug)
            except ValidationError as exc:
                raise CommandError(f"--slug: {exc.messages[0]}") from exc
        self.stdout.write(f"Transcoding {file.name} with FFmpeg…")
        try:
            added = title_add(file, new, progress=lambda line: self.stdout.write(line))
        except (PackagingError, ValueError) as exc:
            raise CommandError(f"Could not add {file.name}: {exc}") from exc
        offers = ", ".join(
            f"{offer.get_kind_display().lower()} {offer.price}" for offer in added.offers.all()
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added “{added.name}” ({added.asset.duration:.1f} s, key id {added.asset.kid}; {offers}). "
                f"It is in the shop at {reverse('storefront:title', args=[added.slug])}."
            )
        )
