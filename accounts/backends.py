"""Sign in with the username or the e-mail address, as a customer expects."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Django's ModelBackend, taking an e-mail address where the username goes. An address shared by several
    accounts signs none of them in by address (their usernames still work)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            matches = list(get_user_model()._default_manager.filter(email__iexact=username.strip())[:2])
            if len(matches) != 1:
                get_user_model()().set_password(password)  # the same work either way: timing says nothing
                return None
            username = matches[0].get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
