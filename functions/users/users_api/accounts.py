"""Use cases of one's own account: register, log in, read/update the profile, change the password.

bcrypt runs outside any database transaction, so a slow hash never holds a connection or a lock.
"""

from __future__ import annotations

from uuid import UUID

from shared import db
from shared.auth.passwords import could_be_a_password, hash_password, verify_password
from shared.auth.principal import Principal
from shared.auth.tokens import issue_token
from shared.errors import InvalidCredentials, Unauthorized
from shared.settings import get_settings
from users_api import repository
from users_api.domain import IssuedToken, User
from users_api.models import (
    LoginRequest,
    PasswordChange,
    ProfileUpdate,
    RegisterRequest,
    is_valid_email,
    normalise_email,
)


def token_for(user: User) -> IssuedToken:
    return IssuedToken(token=issue_token(user.id, user.email, list(user.roles), user.token_version),
                       expires_in=get_settings().jwt_lifetime_seconds, user=user)


def register(request: RegisterRequest) -> User:
    password_hash = hash_password(request.password)
    return db.write(lambda connection: repository.insert_user(connection, email=request.email, name=request.name,
                                                              password_hash=password_hash))


def login(request: LoginRequest) -> IssuedToken:
    """Same answer and one bcrypt comparison whether or not the email exists (no enumeration).

    A password no account can have (over 72 bytes, not UTF-8) is wrong whoever asks: 401 at once,
    before any lookup or bcrypt work, so its cost does not depend on the email either.
    """
    if not could_be_a_password(request.password):
        raise InvalidCredentials()
    email = normalise_email(request.email)
    found = None
    if is_valid_email(email):
        found = db.read(lambda connection: repository.find_credentials(connection, email))
    user, stored_hash = found if found else (None, None)
    # verify_password always runs bcrypt: against the dummy hash when there is no user.
    if not verify_password(request.password, stored_hash) or user is None:
        raise InvalidCredentials()
    return token_for(user)


def profile(principal: Principal) -> User:
    """The caller's own account, as `authenticate` just read it: no second query."""
    return User(id=principal.user_id, email=principal.email, name=principal.name, roles=principal.roles,
                created_at=principal.created_at, updated_at=principal.updated_at,
                token_version=principal.token_version)


def update_profile(user_id: UUID, request: ProfileUpdate) -> User:
    changes = request.model_dump(include=request.model_fields_set)
    return db.write(lambda connection: repository.update_profile(connection, user_id, changes))


def change_password(principal: Principal, request: PasswordChange) -> IssuedToken:
    """Check the current password, store the new one, revoke older tokens, return a fresh token.

    The change is conditional on the token version the caller was authenticated with: of two
    concurrent changes with the same token and password, the first bumps the version and the second
    matches nothing (401), so a thief racing the owner cannot keep the account.
    """
    user_id = principal.user_id
    stored_hash = db.read(lambda connection: repository.password_hash_of(connection, user_id))
    if not verify_password(request.current_password, stored_hash):
        raise InvalidCredentials("Current password is incorrect")
    new_hash = hash_password(request.new_password)
    user = db.write(lambda connection: repository.set_password(connection, user_id, new_hash,
                                                               expected_version=principal.token_version))
    if user is None:  # deleted, or another change won meanwhile: the caller's token is revoked now
        raise Unauthorized("Token has been revoked")
    return token_for(user)
