"""Posters are images (JPEG, PNG, WebP, named as they are) and slugs are slugs: an upload of HTML or script
is refused with a clear, translated error, and the shop's media are served as what they are, with nosniff,
and nothing else in the folder is served at all."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from binding.models import MediaAsset
from storefront.models import Title
from storefront.validators import validate_poster_image, validate_title_slug

HTML = b"<!doctype html><script>fetch('/admin/').then(r => r.text()).then(alert)</script>"


def image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 30), (200, 40, 40)).save(out, kind)
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")  # what a browser claims proves nothing


@pytest.mark.parametrize(
    ("name", "kind"), [("p.jpg", "JPEG"), ("p.JPEG", "JPEG"), ("p.png", "PNG"), ("p.webp", "WEBP")]
)
def test_jpeg_png_and_webp_posters_are_accepted(name, kind):
    file = upload(name, image(kind))
    validate_poster_image(file)
    assert file.read() == image(kind)  # left at the start, for the storage to save all of it


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("poster.html", HTML, "not_an_image"),
        ("poster.png", HTML, "not_an_image"),
        (
            "poster.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not_an_image",
        ),
        ("poster.png", image("PNG")[:40], "not_an_image"),  # cut short
        ("poster.gif", image("GIF"), "image_format"),
        ("poster.bmp", image("BMP"), "image_format"),
        ("poster.html", image("PNG"), "image_name"),  # an image, but served by its name as text/html
        ("poster.jpg", image("PNG"), "image_name"),
    ],
)
def test_anything_else_is_refused(name, content, code):
    with pytest.raises(ValidationError) as refused:
        validate_poster_image(upload(name, content))
    assert refused.value.code == code


def test_the_refusal_is_translated():
    with translation.override("es"):
        with pytest.raises(ValidationError) as refused:
            validate_poster_image(upload("poster.html", HTML))
        assert refused.value.messages == ["Suba una imagen JPEG, PNG o WebP: este archivo no lo es."]


@pytest.mark.parametrize("slug", ["../x", "a/b", "..", "x y", "título", "", "x" * 51])
def test_a_slug_that_is_not_one_is_refused(slug):
    with pytest.raises(ValidationError):
        validate_title_slug(slug)


@pytest.fixture
def operator(client, db):
    client.force_login(get_user_model().objects.create_superuser("op", "op@example.com", "x"))
    return client


def title_form(poster) -> dict:
    asset = MediaAsset.objects.create(slug="clip", kid="1" * 32, key="5" * 32, manifest="c/m.mpd", duration=6)
    return {
        "slug": "uploaded",
        "name": "Uploaded",
        "synopsis": "…",
        "year": "2024",
        "poster": "",
        "poster_image": poster,
        "asset": asset.pk,
        "created_at_0": "2024-01-01",
        "created_at_1": "00:00:00",
        "offers-TOTAL_FORMS": "0",
        "offers-INITIAL_FORMS": "0",
    }


def test_the_admin_refuses_an_html_poster_and_says_why(operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = operator.post(reverse("admin:storefront_title_add"), title_form(upload("poster.html", HTML)))
    assert page.status_code == 200
    assert "Upload a JPEG, PNG or WebP image: this file is not one." in page.content.decode()
    assert not Title.objects.exists() and not list(tmp_path.rglob("*.html"))


def test_the_admin_stores_a_png_poster_served_as_an_image_with_nosniff(operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = operator.post(
        reverse("admin:storefront_title_add"), title_form(upload("poster.png", image("PNG")))
    )
    assert page.status_code == 302
    poster = operator.get(Title.objects.get().poster_url)
    assert poster.status_code == 200 and b"".join(poster.streaming_content) == image("PNG")
    assert poster["Content-Type"] == "image/png" and poster["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["posters/old.html", "posters/old.js", "posters/old.svg", "notes.txt"])
def test_media_of_a_kind_bindery_never_stores_are_not_served(client, settings, tmp_path, name):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(HTML)  # stored before posters were checked
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("dc/manifest.mpd", "application/dash+xml"),
        ("dc/video/1.m4s", "video/iso.segment"),
        ("p/x.jpg", "image/jpeg"),
    ],
)
def test_packaged_media_keep_their_types_and_carry_nosniff(client, settings, tmp_path, name, content_type):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(b"\0" * 10)
    served = client.get(f"/media/{name}")
    assert served["Content-Type"] == content_type and served["X-Content-Type-Options"] == "nosniff"
    assert served["Access-Control-Allow-Origin"] == "*"
