from django.contrib.auth import get_user_model
from rest_framework import serializers

from webapp.accounts.models import ProjectMembership


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="Every role held somewhere.")
    projects = serializers.DictField(child=serializers.CharField(),
                                     help_text="Project id -> role there, from memberships (admins hold admin in "
                                               "every project and need none).")


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ProjectMembership
        fields = ["user", "username", "role", "created_at"]
        read_only_fields = ["created_at"]


class MembershipAddSerializer(serializers.Serializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all(),
                                        help_text="The username.")
    role = serializers.ChoiceField(choices=ProjectMembership.Role.choices, required=False,
                                   help_text="Default: the account's role.")


class WsTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Offer it as the subprotocol 'loupe.ticket.<ticket>'.")
    expires_in = serializers.IntegerField(help_text="Seconds; the ticket opens one socket, once.")
