"""Users, passwords, sign-in sessions and API tokens (用户、密码、会话、令牌), by subject:

- :mod:`.signin`: checking a name and a password, throttled in the database;
- :mod:`.sessions`: the pages' server-side sessions (one query per request);
- :mod:`.tokens`: the API's bearer tokens;
- :mod:`.account`: my account (我的账户): my password, my sessions and tokens;
- :mod:`.passwords`: the password field, the rules a new one follows, temporary passwords;
- :mod:`.users`, :mod:`.jurisdiction`: user administration (用户管理) inside an admin's region;
- :mod:`.command_line`: what operators do with ``flask users …``.

Every function that acts for someone takes the user first and checks permission first
(``require``), reads all of its input through the ``Field`` s it declares (a JSON body or a
posted form alike), gathers every error into one 422, runs one transaction and writes the audit
line with the change. This module re-exports what the routes, the command line and the area's
``__init__`` use.
"""
from __future__ import annotations

from .account import (PASSWORD_BODY, account_page, change_password, end_my_other_sessions, end_my_session,
                      my_account, my_sessions, my_tokens, revoke_my_token)
from .command_line import (cli_create_user, cli_revoke_tokens, cli_set_active, cli_set_password,
                           cli_unlock, cli_users)
from .passwords import generate_password
from .sessions import load_session_user, sign_in, sign_out
from .tokens import TOKEN_BODY, init_token_cache, issue_token, refuse_until_password_changed, user_for_token
from .users import (USER_BODY, USER_FILTERS, Reset, create_user, end_user_sessions, get_user, list_users,
                    management, page_filters, reset_password, revoke_user_tokens, set_active, user_dict,
                    user_page, user_sessions, user_tokens)

__all__ = ["PASSWORD_BODY", "Reset", "TOKEN_BODY", "USER_BODY", "USER_FILTERS", "account_page", "change_password",
           "cli_create_user", "cli_revoke_tokens", "cli_set_active", "cli_set_password", "cli_unlock",
           "cli_users", "create_user", "end_my_other_sessions", "end_my_session", "end_user_sessions",
           "generate_password", "get_user", "init_token_cache", "issue_token", "list_users", "load_session_user", "management",
           "my_account", "my_sessions", "my_tokens", "page_filters", "refuse_until_password_changed",
           "reset_password", "revoke_my_token", "revoke_user_tokens", "set_active", "sign_in", "sign_out",
           "user_dict", "user_for_token", "user_page", "user_sessions", "user_tokens"]
