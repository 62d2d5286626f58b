"""`manage.py add_title`: a person's own clip into the catalogue, encrypted with a key of its own."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from binding import packaging
from binding.models import EntitlementKind, MediaAsset
from storefront.models import Title


@pytest.fixture(scope="module")
def trailer(tmp_path_factory):
    """A prospect's trailer: a MOV-like file at a size and frame rate of its own, not what the demo makes."""
    return packaging.clip_generate(
        tmp_path_factory.mktemp("own") / "trailer.mkv",
        video="testsrc",
        audio="0.1*sin(2*PI*523*t)",
        seconds=4,
        size="1280x720",
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def add_title(*args):
    out = StringIO()
    call_command("add_title", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_clip_becomes_a_title_with_its_own_key_a_poster_and_offers(trailer, media_root, client):
    said = add_title(trailer, "--title", "Our Trailer", "--synopsis", "Coming soon.", "--buy", "9.99")
    title = Title.objects.get(slug="our-trailer")
    asset = title.asset
    assert asset.name == "Our Trailer" and asset.duration == pytest.approx(4, abs=0.1)
    assert (media_root / asset.manifest).exists()
    assert asset.key not in said and asset.kid in said
    assert "Our Trailer" in said and "/titles/our-trailer/" in said
    offers = {offer.kind: offer for offer in title.offers.all()}
    assert str(offers[EntitlementKind.BUY].price) == "9.99"
    assert offers[EntitlementKind.RENT].rental_hours == 48 and offers[EntitlementKind.RENT].play_hours == 3
    # The poster is a frame of the clip, 2:3, served from MEDIA_URL.
    assert title.poster_url.startswith("/media/posters/our-trailer")
    assert packaging.probe(media_root / title.poster_image.name).has_video
    # Transcoded down to 480p, and encrypted: the manifest carries the title's own key id.
    manifest = (media_root / asset.manifest).read_text()
    assert 'width="854" height="480"' in manifest
    assert asset.kid[:8] in manifest.replace("-", "")
    page = client.get("/titles/our-trailer/")
    assert page.status_code == 200 and title.poster_url.encode() in page.content


@pytest.mark.django_db
def test_bad_input_is_a_clear_error_and_adds_nothing(trailer, media_root, tmp_path):
    not_video = tmp_path / "notes.txt"
    not_video.write_text("hello")
    with pytest.raises(CommandError, match=r"Could not add notes\.txt"):
        add_title(not_video, "--title", "Notes")
    with pytest.raises(CommandError, match="no such file"):
        add_title(tmp_path / "gone.mp4", "--title", "Gone")
    with pytest.raises(CommandError, match="at least one offer"):
        add_title(trailer, "--title", "Free", "--buy", "none", "--rent", "none")
    with pytest.raises(CommandError, match="not a price"):
        add_title(trailer, "--title", "Cheap", "--buy", "cheap")
    assert not Title.objects.exists() and not MediaAsset.objects.exists()

    add_title(trailer, "--title", "Once")
    with pytest.raises(CommandError, match="exists already"):
        add_title(trailer, "--title", "Once")
    assert Title.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["../x", "../../etc/evil", "a/b", "x y", "título"])
def test_a_slug_that_is_not_a_slug_is_one_line_of_error_and_adds_nothing(trailer, media_root, tmp_path, slug):
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("add_title", str(trailer), "--title", "Escape", "--slug", slug, stdout=out)
    assert str(refused.value).startswith("--slug: ") and "\n" not in str(refused.value)
    assert "Packaging" not in out.getvalue()  # refused before any work
    assert not Title.objects.exists() and not MediaAsset.objects.exists()
    assert not media_root.exists() or not any(media_root.iterdir())
    assert not (tmp_path / "x").exists() and not (media_root.parent / "x").exists()


@pytest.mark.django_db
def test_the_service_refuses_a_slug_that_is_not_one_too(trailer, media_root):
    from storefront.services import NewTitle, title_add

    with pytest.raises(ValueError, match="is not a slug"):
        title_add(trailer, NewTitle(name="Escape", slug="../x"))
    assert not Title.objects.exists() and not MediaAsset.objects.exists()
