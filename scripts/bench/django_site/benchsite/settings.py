"""A minimal Django login site protected by django-axes 8.x, for
scripts/bench/run.py: the settings of django-axes' reference benchmark
(see ../../../../shared/reference/anchor-bench.md), with the lockout
parameters of the axes runs of the same script.

Environment:
  BENCH_DB   the SQLite file (default: bench.sqlite3 in the working directory)
"""
import os

SECRET_KEY = "benchmark-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "axes",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Last, as the axes docs ask.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "bench.sqlite3"),
        # Persistent connections, WAL, IMMEDIATE transactions: the setup
        # Django 5.1+ documents for concurrent writers.
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

# For the benchmark only: hashing must not dominate the figures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# django-axes: the database handler (the default), 5 failures, one
# lockout per (IP address, username) pair: the same settings as the axes
# runs (lockout_parameters = [["ip_address", "username"]]).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
# The client IP is the left-most X-Forwarded-For entry (all traffic comes
# from 127.0.0.1, the "proxy"); with python-ipware 4.1, PROXY_COUNT = 1
# returns None for a single-entry header.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_IPWARE_PROXY_COUNT = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # axes' verbose WARNING line per failure, as by default.
    "loggers": {"axes": {"handlers": ["stderr"], "level": "INFO"}},
}
