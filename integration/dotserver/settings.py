"""Settings of the integration test server: django-oauth-toolkit (DOT) as Cryptofuse runs it.

Test fixture only: the secret key is public and the server listens on loopback.
The scopes and token lifetime match docs/servers.md (what a real server answers) and the
defaults of cryptofusetest, so the same requests get the same answers; only
the "short" application's tokens live a few seconds (SHORT_TOKEN_SECONDS).
"""
import os

SECRET_KEY = "cryptofuse-integration-test-fixture-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "dotserver",
]

# Django's project template, less admin, messages and static files.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dotserver.urls"

_db = os.environ.get("CRYPTOFUSE_DOT_DB")
if not _db:
    raise RuntimeError("CRYPTOFUSE_DOT_DB must name the sqlite file (start.sh sets it)")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _db,
        # Concurrent revocations wait for the write lock instead of failing.
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The seeded user's password is checked on every password grant: a fast hasher
# keeps that cheap. Test fixture only. PBKDF2 stays available: seed.py hashes
# the "hashed" application's secret with it, as DOT 3.4.1 does by default.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

USE_TZ = True
TIME_ZONE = "UTC"

# Access token lifetime: 36000 s, except for the "short" application
# (seed.py), whose tokens live SHORT_TOKEN_SECONDS, so that the TokenSource
# tests see refreshes and expiries in seconds without slowing the others.
# ACCESS_TOKEN_EXPIRE_SECONDS may be a callable of the oauthlib request, in
# DOT 1.7.0 and 3.4.1 alike: DOT passes the setting unchanged to oauthlib's
# Server as token_expires_in (OAuth2ProviderSettings.server_kwargs),
# oauthlib's BearerToken.create_token calls it and answers its value as
# expires_in, and DOT's OAuth2Validator.save_bearer_token stores the token
# with expires = now + that expires_in, which is what the protected views
# check. request.client is the application that authenticated.
SHORT_CLIENT_ID = "cryptofuse-it-short"
SHORT_TOKEN_SECONDS = 5


def _access_token_seconds(request):
    client = getattr(request, "client", None)
    if getattr(client, "client_id", None) == SHORT_CLIENT_ID:
        return SHORT_TOKEN_SECONDS
    return 36000


OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read scope", "write": "Write scope"},
    "DEFAULT_SCOPES": ["read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": _access_token_seconds,
}

# Requests go to stderr (the server log); errors with their tracebacks too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO"}},
}
