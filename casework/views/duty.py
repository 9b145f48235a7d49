"""Views of this casework area (filled by its helper)."""

urlpatterns: list = []
