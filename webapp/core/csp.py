"""Content-Security-Policy header with a fresh nonce per response (Django 5.2 has no CSP of its own).

Inline scripts of our templates carry ``nonce="{{ request.csp_nonce }}"``; anything injected into a page
(a crafted value reaching the HTML) has no nonce and does not run.
"""
from __future__ import annotations

import secrets

from django.conf import settings


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
            response[header] = policy.replace("{nonce}", request.csp_nonce)
        return response
