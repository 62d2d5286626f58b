from django.conf import settings
from django.shortcuts import render
from django.views.static import serve


def home(request):
    """Say what Bindery is and where to go next."""
    return render(request, "storefront/home.html")


def media(request, path):
    """Serve packaged (encrypted) media in the demo; production serves MEDIA_URL from a CDN."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
