SECRET_KEY = "change-me"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
ROOT_URLCONF = "myproject.urls"
STATIC_URL = "/static/"
STATIC_ROOT = "/app/static"
