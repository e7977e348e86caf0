"""Production defaults, checked in fresh processes with the environment a deployment would have."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = ("import django; django.setup(); from django.conf import settings as s; "
                  "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
                  "bool(s.LOUPE_CSP))")


def _run(args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("LOUPE_LOCAL", "DEBUG", "SECRET_KEY", "DATABASE_URL", "SESSION_COOKIE_SECURE",
                          "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "LOUPE_CSP")}
    clean.update(DJANGO_SETTINGS_MODULE="webapp.config.settings", SQLITE_PATH=str(tmp_path / "db.sqlite3"), **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    out = _run(["manage.py", "check"], tmp_path)
    assert out.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in out.stderr
    assert _run(["manage.py", "check"], tmp_path, DEBUG="1").returncode == 0


def test_production_defaults_are_secure_and_check_deploy_is_clean(tmp_path):
    key = secrets.token_urlsafe(50)
    shown = _run(["-c", PRINT_SETTINGS], tmp_path, SECRET_KEY=key)
    assert shown.stdout.split() == ["True", "True", "True", "31536000", "True"], shown.stderr[-2000:]
    deploy = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, SECRET_KEY=key)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr[-2000:]
    assert "no issues" in deploy.stdout
    # Each can be turned off from the environment (e.g. TLS handled elsewhere and HSTS set by the proxy).
    relaxed = _run(["-c", PRINT_SETTINGS], tmp_path, SECRET_KEY=key, SESSION_COOKIE_SECURE="0",
                   SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", LOUPE_CSP="")
    assert relaxed.stdout.split() == ["False", "True", "False", "0", "False"], relaxed.stderr[-2000:]


def test_local_run_makes_a_private_key_once(tmp_path):
    first = _run(["-c", "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"],
                 tmp_path, LOUPE_LOCAL="1")
    assert first.returncode == 0, first.stderr[-2000:]
    key_file = ROOT / "var" / "secret_key"
    assert first.stdout.strip() == key_file.read_text().strip() and len(first.stdout.strip()) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "insecure" not in first.stdout


def test_the_public_development_key_and_short_keys_are_refused_outside_a_local_run(tmp_path):
    from webapp.config.settings.secret_key import DEVELOPMENT_KEY

    for key in (DEVELOPMENT_KEY, "short-but-set", "ab" * 30):
        started = _run(["manage.py", "check"], tmp_path, SECRET_KEY=key)
        assert started.returncode != 0, key
        assert "SECRET_KEY" in started.stderr and "refusing to start" in started.stderr, started.stderr[-2000:]
        # A run on this machine only may keep it (its cookies never leave the machine).
        assert _run(["manage.py", "check"], tmp_path, SECRET_KEY=key, LOUPE_LOCAL="1").returncode == 0


def test_check_deploy_reports_the_public_development_key(tmp_path):
    """DEBUG without SECRET_KEY runs on the public key: fine for development, an error for a deployment."""
    deploy = _run(["manage.py", "check", "--deploy"], tmp_path, DEBUG="1")
    assert deploy.returncode != 0
    assert "loupe.E001" in deploy.stderr and "public" in deploy.stderr, deploy.stderr[-2000:]
    key = secrets.token_urlsafe(50)
    clean = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, SECRET_KEY=key)
    assert clean.returncode == 0 and "loupe.E001" not in clean.stdout + clean.stderr
