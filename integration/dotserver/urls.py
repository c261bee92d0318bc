"""URLs: DOT's endpoints under o/ (its defaults), two protected resources and the versions."""
from django.urls import include, path

from dotserver import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me/", views.Me.as_view()),
    path("api/write/", views.Write.as_view()),
    path("api/version/", views.version),
]
