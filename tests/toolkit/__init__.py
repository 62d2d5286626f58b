"""The suite's shared plumbing: one fake per edge, the demo world, and factories on the real services.

fixtures      the pytest plugin (registered by tests/conftest.py): `queued_tasks`, `user`, `check_asset`,
              `title`
broker        QueuedTasks, what the `queued_tasks` fixture returns instead of a Celery broker
expressplay   ExpressPlay's endpoints as the tests stub them with `responses`, and the stubs themselves
factories     a customer, a registered device, a title on sale, an order: made by the services that make
              them in the product
"""
