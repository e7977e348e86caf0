"""Content-Security-Policy header with a fresh nonce per response (Django 5.2 has no CSP of its own).

Inline scripts of our templates carry ``nonce="{{ request.csp_nonce }}"``; anything injected into a page
(a crafted value reaching the HTML) has no nonce and does not run. A view may widen ``script-src`` for its
own response with ``allow_script_source(request, "'unsafe-eval'")``; inline scripts stay nonce-only.
"""
from __future__ import annotations

import secrets

from django.conf import settings


def allow_script_source(request, source: str) -> None:
    """Add a source to this response's ``script-src`` (only where a page's libraries need it)."""
    request.csp_script_extra = f"{getattr(request, 'csp_script_extra', '')} {source}".strip()


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        policy = settings.LOUPE_CSP
        if policy and "Content-Security-Policy" not in response:
            header = "Content-Security-Policy-Report-Only" if settings.LOUPE_CSP_REPORT_ONLY \
                else "Content-Security-Policy"
            policy = policy.replace("{nonce}", request.csp_nonce)
            extra = getattr(request, "csp_script_extra", "")
            if extra:
                policy = policy.replace("script-src ", f"script-src {extra} ", 1)
            response[header] = policy
        return response
