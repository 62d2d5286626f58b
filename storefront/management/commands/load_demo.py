from django.core.management.base import BaseCommand

from storefront.demo_data import demo_api_client_load, demo_users_load, media_assets_load, titles_load


class Command(BaseCommand):
    help = "Load the demo data: logins, and the sample clips encrypted with this install's own keys."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repackage", action="store_true", help="Encrypt every clip again with new keys."
        )

    def handle(self, *args, repackage, **options):
        users = demo_users_load()
        assets = media_assets_load(force=repackage, progress=lambda line: self.stdout.write(line))
        titles = titles_load()
        demo_api_client_load()
        self.stdout.write(
            f"Demo data loaded: {len(users)} logins, {len(assets)} encrypted clips, {len(titles)} titles."
        )
