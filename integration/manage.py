#!/usr/bin/python3
"""Django's command-line utility for the integration test server (test fixture only).

Run it with Debian's /usr/bin/python3, which has python3-django-oauth-toolkit;
start.sh and stop.sh wrap it. CRYPTOFUSE_DOT_DB names the sqlite file.
"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotserver.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
