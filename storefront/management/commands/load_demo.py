from django.core.management.base import BaseCommand

from storefront.demo_data import demo_users_load


class Command(BaseCommand):
    help = "Load the demo data (logins). Safe to run again: it resets the demo logins' passwords."

    def handle(self, *args, **options):
        users = demo_users_load()
        self.stdout.write(f"Demo data loaded: {len(users)} logins.")
