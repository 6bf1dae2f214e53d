"""Routes of the users function: parse (Powertools validates), call one use case, wrap in the envelope.

Static paths (`profile`, `password`, `search`) are registered before `<user_id>`, so they are never
taken as ids; ids are typed UUID (malformed → 400).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.auth.principal import ADMIN_ONLY, AUTHENTICATED, BEARER, current_principal
from shared.envelope import ApiResponse, success
from shared.output import DeletedData
from users_api import accounts, admin
from users_api import output as docs
from users_api.models import LoginRequest, PasswordChange, ProfileUpdate, RegisterRequest, RolesUpdate
from users_api.output import TokenData, UserData, UserPage

router = APIGatewayRouter()

PAGE_MAX = 2**31 - 1  # beyond any real page; bounds what reaches JSON (64-bit) and SQL
Page = Annotated[int, Query(ge=1, le=PAGE_MAX)]
Limit = Annotated[int, Query(ge=1, le=100)]
SearchQuery = Annotated[str, Query(min_length=1, max_length=100)]


@router.post("/v1/users/register", responses=docs.REGISTER)
def register(body: RegisterRequest) -> ApiResponse:
    return success(UserData.of(user=accounts.register(body)), status=201)


@router.post("/v1/users/login", responses=docs.LOGIN)
def login(body: LoginRequest) -> ApiResponse:
    return success(TokenData.issued(accounts.login(body)))


@router.get("/v1/users/profile", middlewares=AUTHENTICATED, security=BEARER, responses=docs.GET_PROFILE)
def get_profile() -> ApiResponse:
    return success(UserData.of(user=accounts.profile(current_principal(router))))


@router.put("/v1/users/profile", middlewares=AUTHENTICATED, security=BEARER, responses=docs.UPDATE_PROFILE)
def update_profile(body: ProfileUpdate) -> ApiResponse:
    return success(UserData.of(user=accounts.update_profile(current_principal(router).user_id, body)))


@router.put("/v1/users/password", middlewares=AUTHENTICATED, security=BEARER, responses=docs.CHANGE_PASSWORD)
def change_password(body: PasswordChange) -> ApiResponse:
    return success(TokenData.issued(accounts.change_password(current_principal(router), body)))


@router.get("/v1/users", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.LIST_USERS)
def list_users(page: Page = 1, limit: Limit = 20) -> ApiResponse:
    return success(UserPage.of_page(admin.list_users(page, limit)))


@router.get("/v1/users/search", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.SEARCH_USERS)
def search_users(query: SearchQuery, page: Page = 1, limit: Limit = 20) -> ApiResponse:
    return success(UserPage.of_page(admin.search_users(query, page, limit)))


@router.get("/v1/users/<user_id>", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.GET_USER)
def get_user(user_id: UUID) -> ApiResponse:
    return success(UserData.of(user=admin.get_user(user_id)))


@router.put("/v1/users/<user_id>/roles", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.SET_ROLES)
def set_roles(user_id: UUID, body: RolesUpdate) -> ApiResponse:
    return success(UserData.of(user=admin.set_roles(user_id, body)))


@router.delete("/v1/users/<user_id>", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.DELETE_USER)
def delete_user(user_id: UUID) -> ApiResponse:
    admin.delete_user(user_id)
    return success(DeletedData(id=str(user_id)))
