"""The demo's fixed data: who can log in, and the services that create it."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_PASSWORD = "bindery-demo"  # noqa: S105 - a published demo login, created only by `load_demo`


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    first_name: str
    is_staff: bool
    description: str


DEMO_USERS = (
    DemoUser("operator", "operator@bindery.example", "Olga", True, "staff operator (admin)"),
    DemoUser("alice", "alice@bindery.example", "Alice", False, "end user"),
    DemoUser("bob", "bob@bindery.example", "Bob", False, "end user"),
)


@transaction.atomic
def demo_users_load() -> list:
    """Create or reset the demo logins; return the users. Safe to run any number of times."""
    User = get_user_model()
    users = []
    for demo in DEMO_USERS:
        user, _created = User.objects.get_or_create(username=demo.username)
        user.email = demo.email
        user.first_name = demo.first_name
        user.is_staff = demo.is_staff
        user.is_superuser = demo.is_staff
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        users.append(user)
    return users
