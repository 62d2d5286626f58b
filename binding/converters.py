"""URL converters. `<id:name>`: a database id, 1 to 18 ASCII digits, so that an id no bigint can hold is a
404 at the URL resolver instead of an error from the database."""

from django.urls import register_converter


class DatabaseId:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


# Registered once, on first import (both URL modules import this one).
register_converter(DatabaseId, "id")
