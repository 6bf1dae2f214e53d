"""Who is calling: resolved once per request by the `authenticated` middleware.

The token proves identity; the database row decides the rest (current roles, revocation), so a
demoted admin or a changed password takes effect on the very next request. One primary-key
lookup per authenticated request, outside any transaction; it reads the whole account row, so
the caller's own profile needs no second query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from sqlalchemy import bindparam, select

from shared import db
from shared.auth.tokens import bearer_token, decode_token
from shared.errors import ApiError, Forbidden, Unauthorized
from shared.logger import logger
from shared.pg_schema import users

ADMIN = "admin"
# Built once: SQLAlchemy then reuses its cache key and compiled form instead of redoing them per request.
_ACCOUNT_BY_ID = select(users.c.email, users.c.name, users.c.roles, users.c.created_at, users.c.updated_at,
                        users.c.token_version).where(users.c.id == bindparam("user_id"))


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    email: str
    roles: tuple[str, ...]
    name: str
    created_at: datetime
    updated_at: datetime
    token_version: int

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def authenticate(authorization: str | None) -> Principal:
    claims = decode_token(bearer_token(authorization))
    row = db.read(lambda connection: connection.execute(_ACCOUNT_BY_ID, {"user_id": claims.user_id}).one_or_none())
    if row is None or row.token_version != claims.token_version:
        raise Unauthorized("Token has been revoked")
    return Principal(user_id=claims.user_id, email=row.email, roles=tuple(row.roles), name=row.name,
                     created_at=row.created_at, updated_at=row.updated_at, token_version=row.token_version)


def authenticated(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Route middleware: 401 unless a valid, unrevoked bearer token is presented."""
    principal = authenticate(app.current_event.headers.get("Authorization"))
    app.append_context(principal=principal)
    logger.append_keys(user_id=str(principal.user_id))
    return next_middleware(app)


def admin_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Route middleware after `authenticated`: 403 unless the caller is an admin now."""
    if not current_principal(app).is_admin:
        raise Forbidden("Admin role required")
    return next_middleware(app)


def current_principal(app: BaseRouter) -> Principal:
    """The caller resolved by `authenticated`; pass the resolver or a Router included in it."""
    principal = app.context.get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized()
    return principal


def access_error(app: APIGatewayRestResolver) -> ApiError | None:
    """The 401/403 the matched route's auth middlewares would give, or None.

    Powertools validates the request before route middlewares run, so a request that is both
    unauthenticated and invalid would get a 400 and let anonymous callers probe protected
    routes' validation rules. The validation error handler asks this first.
    """
    middlewares = getattr(app.context.get("_route"), "middlewares", None) or []
    if authenticated not in middlewares:
        return None
    try:
        principal = authenticate(app.current_event.headers.get("Authorization"))
        if admin_only in middlewares and not principal.is_admin:
            raise Forbidden("Admin role required")
    except ApiError as error:
        return error
    return None


AUTHENTICATED = [authenticated]
ADMIN_ONLY = [authenticated, admin_only]
# What a route with either declares to OpenAPI (`security=`): a bearer JWT, the scheme openapi.json names.
BEARER_SCHEME = "bearerAuth"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
