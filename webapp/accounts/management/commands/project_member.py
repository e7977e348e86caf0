"""Add, remove or list the members of a project (admins see every project without a membership)."""
from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webapp.accounts.roles import PROJECT_ROLES
from webapp.accounts.selectors import membership_list
from webapp.accounts.services import project_member_add, project_member_remove
from webapp.core.errors import ServiceError


class Command(BaseCommand):
    help = "project_member add|remove|list --project SLUG [--user NAME] [--role operator|reviewer]"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["add", "remove", "list"])
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument("--user", help="The username (add, remove).")
        parser.add_argument("--role", choices=PROJECT_ROLES, help="Default: the account's role.")

    def handle(self, *args, action, project, user, role, **options):
        found = apps.get_model("labeling.Project").objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"no project with the slug {project!r}")
        if action == "list":
            for m in membership_list(project_id=found.pk):
                self.stdout.write(f"{m.user.username}\t{m.role}")
            return
        if not user:
            raise CommandError("--user is required")
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no user {user!r}")
        try:
            if action == "add":
                m = project_member_add(project_id=found.pk, user=account, role=role)
                self.stdout.write(f"{account.username} is {m.role} in {found.slug}")
            else:
                project_member_remove(project_id=found.pk, user_id=account.pk)
                self.stdout.write(f"{account.username} left {found.slug}")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
