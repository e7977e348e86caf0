from django.contrib.auth import get_user_model
from rest_framework import serializers

from webapp.accounts.models import ProjectMembership
from webapp.core.serializers import StrictCharField, StrictChoiceField, StrictIntegerField, StrictModelSerializer


class MeSerializer(serializers.Serializer):
    username = StrictCharField()
    roles = serializers.ListField(child=StrictCharField(), help_text="Every role held somewhere.")
    projects = serializers.DictField(child=StrictCharField(),
                                     help_text="Project id -> role there, from memberships (admins hold admin in "
                                               "every project and need none).")


class MembershipSerializer(StrictModelSerializer):
    username = StrictCharField(source="user.username", read_only=True)

    class Meta:
        model = ProjectMembership
        fields = ["user", "username", "role", "created_at"]
        read_only_fields = ["created_at"]


class MembershipAddSerializer(serializers.Serializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all(),
                                        help_text="The username.")
    role = StrictChoiceField(choices=ProjectMembership.Role.choices, required=False,
                             help_text="Default: the account's role.")


class WsTicketSerializer(serializers.Serializer):
    ticket = StrictCharField(help_text="Offer it as the subprotocol 'loupe.ticket.<ticket>'.")
    expires_in = StrictIntegerField(help_text="Seconds; the ticket opens one socket, once.")
