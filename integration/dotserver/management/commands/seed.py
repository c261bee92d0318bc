"""manage.py seed: replace every application and user with the fixed test ones.

The Go tests in integration/ name the same ids and secrets (main_test.go).
The first five are confidential client-credentials applications; the last is a
confidential password-grant application, whose tokens for the seeded user come
with a refresh token, as a logged-in user's do.

django-oauth-toolkit 2.0 and later hash client secrets (PBKDF2, about 0.3 s of
CPU per authenticated request), unless an application sets
hash_client_secret=False, a field 1.7.0 lacks. Every application but "hashed"
sets it where it exists, so the suite stays fast; "hashed" keeps the default,
so the hashed path is tested too.
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model

# (client_id, client_secret, name, hashed). The third has each of : + % & / =
# and a non-ASCII letter in both its id and its secret.
CLIENTS = [
    ("cryptofuse-it", "cryptofuse-it-secret", "main", False),
    ("cryptofuse-it-other", "cryptofuse-it-other-secret", "other", False),
    ("sp\u00e9cial:+%&/=id", "s\u00e9cret:+%&/=value", "special", False),
    ("cryptofuse-it-hashed", "cryptofuse-it-hashed-secret", "hashed", True),
    # Its tokens live settings.SHORT_TOKEN_SECONDS (5 s), not 36000 s: for the
    # TokenSource tests (tokensource_test.go), which watch refreshes happen.
    ("cryptofuse-it-short", "cryptofuse-it-short-secret", "short", False),
]

# The password-grant application and the user it logs in.
USER_CLIENT = ("cryptofuse-it-user", "cryptofuse-it-user-secret", "user")
USER = ("cryptofuse-it-alice", "cryptofuse-it-alice-password")


class Command(BaseCommand):
    help = "Replace every OAuth2 application and user with the fixed integration test ones."

    def handle(self, *args, **options):
        app = get_application_model()
        has_hash_field = any(f.name == "hash_client_secret" for f in app._meta.get_fields())

        def create(client_id, secret, name, hashed, grant):
            extra = {"hash_client_secret": hashed} if has_hash_field else {}
            if hashed and has_hash_field:
                # DOT's default CLIENT_SECRET_HASHER is Django's first
                # PASSWORD_HASHERS entry, MD5 here (settings.py): hash with
                # PBKDF2, DOT's real default, explicitly.
                secret = make_password(secret, hasher="pbkdf2_sha256")
            app.objects.create(
                client_id=client_id,
                client_secret=secret,
                name=name,
                client_type=app.CLIENT_CONFIDENTIAL,
                authorization_grant_type=grant,
                redirect_uris="",
                **extra,
            )

        with transaction.atomic():
            app.objects.all().delete()
            get_user_model().objects.all().delete()
            for client_id, secret, name, hashed in CLIENTS:
                create(client_id, secret, name, hashed, app.GRANT_CLIENT_CREDENTIALS)
            create(*USER_CLIENT, False, app.GRANT_PASSWORD)
            get_user_model().objects.create_user(USER[0], password=USER[1])
        self.stdout.write("seeded %d applications and 1 user" % (len(CLIENTS) + 1))
