"""Mail to customers: EMAIL_URL in production, files in the var folder in the sandbox demo."""

from .base import VAR_DIR, env
from .expressplay import EXPRESSPLAY_ENV

# Mail to customers (accounts/mail.py) through Django's e-mail framework. Production: EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.com:587 (django-environ). The sandbox demo writes each mail to a file in
# var/mail, which the presenter's Outbox shows.
if env("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif EXPRESSPLAY_ENV == "sandbox":
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Bindery <shop@bindery.example>")
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=8)
