#!/usr/bin/env python
"""Django's command-line utility for Bindery."""

import os
import sys


def main() -> None:
    from bindery.local_files import prepare

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bindery.settings")
    prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
