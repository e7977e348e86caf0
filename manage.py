#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")
    if sys.argv[1:2] == ["rundemo"]:
        # The demo is a one-machine run over plain HTTP: a private key under var/, no HTTPS-only cookies.
        os.environ.setdefault("LOUPE_LOCAL", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
