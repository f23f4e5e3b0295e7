"""Sign-in policy: agents are invited by an admin; nobody signs up on their own."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False
