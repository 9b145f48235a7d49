from django.apps import AppConfig


class PermAppConfig(AppConfig):
    name = "tests.perm_app"
    label = "perm_app"
    default_auto_field = "django.db.models.BigAutoField"
