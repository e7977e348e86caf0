"""Sign-in page with a limit on failed attempts (the same limit as the API token endpoint)."""
from django.contrib.auth import views as auth_views

from webapp.accounts.services import login_blocked, login_failed


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        wait = login_blocked(username=request.POST.get("username", ""), ip=request.META.get("REMOTE_ADDR", ""))
        if wait:
            response = self.render_to_response(self.get_context_data(form=self.get_form(), blocked_seconds=wait),
                                               status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failed(username=self.request.POST.get("username", ""), ip=self.request.META.get("REMOTE_ADDR", ""))
        return super().form_invalid(form)
