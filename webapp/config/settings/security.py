"""Transport and browser security. On by default in production (DEBUG and LOUPE_LOCAL off); each value can
be set from the environment. ``manage.py check --deploy`` is clean with these defaults."""
from .base import DEBUG, LOUPE_LOCAL
from .env import env_bool, env_int, env_str

_PRODUCTION = not DEBUG and not LOUPE_LOCAL

# Cookies only over HTTPS; the CSRF token is read from the cookie by the page scripts, so it stays readable.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# HTTPS: redirect plain HTTP, HSTS for a year. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER
# ("HTTP_X_FORWARDED_PROTO,https") so that Django knows the original request was HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # the load balancer's plain-HTTP health probe
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header.split(",", 1)) if _proxy_header else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (webapp.core.csp): scripts only from this origin or with the per-response nonce.
# LOUPE_CSP="" turns the header off; any other value replaces the policy ({nonce} is filled in).
LOUPE_CSP = env_str("LOUPE_CSP", "default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
                                 "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                                 "connect-src 'self'; font-src 'self' data:; object-src 'none'; "
                                 "worker-src 'self' blob:; base-uri 'self'; form-action 'self'; "
                                 "frame-ancestors 'none'")
LOUPE_CSP_REPORT_ONLY = env_bool("LOUPE_CSP_REPORT_ONLY", False)
# HSTS preload binds the whole domain and its subdomains to HTTPS for good: the operator's choice
# (SECURE_HSTS_PRELOAD=1), not a default, so its reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
