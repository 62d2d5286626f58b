from django.shortcuts import render


def home(request):
    """Say what Bindery is and where to go next."""
    return render(request, "storefront/home.html")
