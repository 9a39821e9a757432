#!/bin/sh
set -e
python manage.py migrate --noinput
exec uwsgi --ini /app/uwsgi.ini
