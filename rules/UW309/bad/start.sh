#!/bin/sh
set -e
python manage.py migrate --noinput
uwsgi --ini /app/uwsgi.ini
