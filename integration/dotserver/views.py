"""Protected resources, so a test can tell an accepted token from a rejected one.

DOT answers a missing, revoked or expired token (or one without the view's
required scopes) with 403 and an empty body.
"""
import django
import oauth2_provider
from django.http import JsonResponse
from oauth2_provider.views import ProtectedResourceView, ScopedProtectedResourceView


def _describe(view, request):
    _, r = view.verify_request(request)
    token = r.access_token
    return JsonResponse({"client_id": token.application.client_id, "scope": token.scope})


class Me(ProtectedResourceView):
    """GET /api/me/: any live access token; answers its client_id and scope."""

    def get(self, request, *args, **kwargs):
        return _describe(self, request)


class Write(ScopedProtectedResourceView):
    """GET /api/write/: a live access token that has the "write" scope."""

    required_scopes = ["write"]

    def get(self, request, *args, **kwargs):
        return _describe(self, request)


def version(request):
    """GET /api/version/: the versions of django-oauth-toolkit and Django serving."""
    return JsonResponse({"dot": oauth2_provider.__version__, "django": django.get_version()})
