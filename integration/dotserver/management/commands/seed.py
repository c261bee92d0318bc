"""manage.py seed: replace every application with the fixed test clients.

The Go tests in integration/ name the same ids and secrets (clients_test.go).
All are confidential client-credentials applications.
"""
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model

# (client_id, client_secret, name). The third has each of : + % & / = and a
# non-ASCII letter in both its id and its secret.
CLIENTS = [
    ("cryptofuse-it", "cryptofuse-it-secret", "main"),
    ("cryptofuse-it-other", "cryptofuse-it-other-secret", "other"),
    ("sp\u00e9cial:+%&/=id", "s\u00e9cret:+%&/=value", "special"),
]


class Command(BaseCommand):
    help = "Replace every OAuth2 application with the fixed integration test clients."

    def handle(self, *args, **options):
        app = get_application_model()
        with transaction.atomic():
            app.objects.all().delete()
            for client_id, secret, name in CLIENTS:
                app.objects.create(
                    client_id=client_id,
                    client_secret=secret,
                    name=name,
                    client_type=app.CLIENT_CONFIDENTIAL,
                    authorization_grant_type=app.GRANT_CLIENT_CREDENTIALS,
                    redirect_uris="",
                )
        self.stdout.write("seeded %d applications" % len(CLIENTS))
