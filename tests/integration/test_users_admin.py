"""Admin routes: list, search, get, roles, delete; last-admin protection; cascade to orders."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, literal, select, text

from shared.pg_schema import orders, users
from tests.support import users as factories
from tests.support.api import ApiClient
from tests.support.users import factory_engine, make_user

USER_FIELDS = {"id", "email", "name", "roles", "created_at", "updated_at"}


@pytest.fixture
def admin(api: ApiClient) -> factories.SeededUser:
    return make_user(api.env_overrides["DATABASE_URL"], email="root@example.com", name="Root",
                     roles=("user", "admin"))


def add_users(api: ApiClient, count: int) -> list[factories.SeededUser]:
    return [make_user(api.env_overrides["DATABASE_URL"], email=f"u{i:02d}@example.com", name=f"User {i:02d}")
            for i in range(count)]


def test_admin_routes_need_a_token(api: ApiClient) -> None:
    some_id = uuid.uuid4()
    for response in (api.get("/v1/users"), api.get("/v1/users/search", query={"query": "a"}),
                     api.get(f"/v1/users/{some_id}"), api.delete(f"/v1/users/{some_id}"),
                     api.put(f"/v1/users/{some_id}/roles", json={"roles": ["user"]})):
        assert response.status == 401, response.body
        assert response.error["code"] == "UNAUTHORIZED"


def test_list_paginates_in_creation_order(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given the admin and 5 more users
    created = add_users(api, 5)
    # When listing page 2 of size 2
    response = api.get("/v1/users", query={"page": 2, "limit": 2}, token=admin.token)
    # Then it holds users 2 and 3 (after the admin) and the totals
    assert response.status == 200, response.body
    data = response.data
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 6, "pages": 3}
    assert [user["id"] for user in data["users"]] == [str(created[1].id), str(created[2].id)]
    assert all(set(user) == USER_FIELDS for user in data["users"])


def test_list_defaults_to_page_1_limit_20(api: ApiClient, admin: factories.SeededUser) -> None:
    add_users(api, 21)
    data = api.get("/v1/users", token=admin.token).data
    assert data["pagination"] == {"page": 1, "limit": 20, "total": 22, "pages": 2}
    assert len(data["users"]) == 20


@pytest.mark.parametrize("page", [4, 1000, 2**31 - 1])
def test_page_beyond_the_last_is_empty_with_true_totals(api: ApiClient, admin: factories.SeededUser, page: int) -> None:
    add_users(api, 4)
    response = api.get("/v1/users", query={"page": page, "limit": 2}, token=admin.token)
    assert response.status == 200
    assert response.data == {"users": [], "pagination": {"page": page, "limit": 2, "total": 5, "pages": 3}}


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "abc"}, {"page": 0}, {"page": -1},
                                   {"page": "x"}, {"limit": "1.5"}, {"page": 2**31}, {"page": 10**30}])
def test_bad_pagination_is_400(api: ApiClient, admin: factories.SeededUser, query: dict[str, object]) -> None:
    response = api.get("/v1/users", query=query, token=admin.token)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"


def test_limit_bounds_are_inclusive(api: ApiClient, admin: factories.SeededUser) -> None:
    for limit in (1, 100):
        assert api.get("/v1/users", query={"limit": limit}, token=admin.token).status == 200


def test_search_matches_email_or_name_case_insensitively(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given users matching by name and by email
    url = api.env_overrides["DATABASE_URL"]
    by_name = make_user(url, email="x1@example.com", name="Grace Hopper")
    by_email = make_user(url, email="hopper.fan@example.com", name="Fan")
    make_user(url, email="other@example.com", name="Other")
    # When searching for "HOPPER"
    response = api.get("/v1/users/search", query={"query": "HOPPER"}, token=admin.token)
    # Then both match, paginated like the list
    assert response.status == 200, response.body
    assert {user["id"] for user in response.data["users"]} == {str(by_name.id), str(by_email.id)}
    assert response.data["pagination"] == {"page": 1, "limit": 20, "total": 2, "pages": 1}


def test_search_wildcards_match_literally(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given a user named "100%_off" and others without those characters
    url = api.env_overrides["DATABASE_URL"]
    target = make_user(url, email="promo@example.com", name="100%_off")
    make_user(url, email="plain@example.com", name="100 off")
    make_user(url, email="back@example.com", name="back\\slash")
    # When searching for "%_" / Then only the literal match comes back, not everybody
    data = api.get("/v1/users/search", query={"query": "%_"}, token=admin.token).data
    assert [user["id"] for user in data["users"]] == [str(target.id)]
    # And "_" alone and a backslash are literal too
    assert api.get("/v1/users/search", query={"query": "_"}, token=admin.token).data["pagination"]["total"] == 1
    assert api.get("/v1/users/search", query={"query": "\\"}, token=admin.token).data["pagination"]["total"] == 1
    assert api.get("/v1/users/search", query={"query": "%"}, token=admin.token).data["pagination"]["total"] == 1


@pytest.mark.parametrize("query", [None, {"query": ""}, {"query": "x" * 101}, {"query": "   "},
                                   {"query": "a", "limit": 0}])
def test_bad_search_is_400(api: ApiClient, admin: factories.SeededUser, query: dict[str, object] | None) -> None:
    response = api.get("/v1/users/search", query=query, token=admin.token)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"


def test_search_of_100_chars_is_accepted(api: ApiClient, admin: factories.SeededUser) -> None:
    assert api.get("/v1/users/search", query={"query": "x" * 100}, token=admin.token).status == 200


def test_get_user_by_id(api: ApiClient, admin: factories.SeededUser) -> None:
    (user,) = add_users(api, 1)
    response = api.get(f"/v1/users/{user.id}", token=admin.token)
    assert response.status == 200
    assert response.data["user"]["id"] == str(user.id) and set(response.data["user"]) == USER_FIELDS
    missing = api.get(f"/v1/users/{uuid.uuid4()}", token=admin.token)
    assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND")
    malformed = api.get("/v1/users/not-a-uuid", token=admin.token)
    assert (malformed.status, malformed.error["code"]) == (400, "VALIDATION_ERROR")


def test_static_paths_are_not_taken_as_ids(api: ApiClient, admin: factories.SeededUser) -> None:
    assert api.get("/v1/users/profile", token=admin.token).data["user"]["id"] == str(admin.id)
    assert "users" in api.get("/v1/users/search", query={"query": "root"}, token=admin.token).data


def test_promote_then_demote(api: ApiClient, admin: factories.SeededUser) -> None:
    (user,) = add_users(api, 1)
    # When the admin promotes a user (roles in any order, duplicates collapse)
    promoted = api.put(f"/v1/users/{user.id}/roles", json={"roles": ["admin", "user", "admin"]}, token=admin.token)
    # Then the roles are stored canonically
    assert promoted.status == 200, promoted.body
    assert promoted.data["user"]["roles"] == ["user", "admin"]
    # And with two admins, the first may be demoted
    demoted = api.put(f"/v1/users/{admin.id}/roles", json={"roles": ["user"]}, token=admin.token)
    assert demoted.status == 200 and demoted.data["user"]["roles"] == ["user"]


@pytest.mark.parametrize("body", [{"roles": []}, {"roles": ["root"]}, {"roles": "admin"}, {},
                                  {"roles": ["user"], "email": "x@example.com"}])
def test_bad_roles_bodies_are_400(api: ApiClient, admin: factories.SeededUser, body: dict[str, object]) -> None:
    (user,) = add_users(api, 1)
    assert api.put(f"/v1/users/{user.id}/roles", json=body, token=admin.token).status == 400


def test_roles_of_unknown_user_is_404(api: ApiClient, admin: factories.SeededUser) -> None:
    response = api.put(f"/v1/users/{uuid.uuid4()}/roles", json={"roles": ["user"]}, token=admin.token)
    assert response.status == 404


def test_last_admin_cannot_be_demoted_or_deleted(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given a single admin
    for response in (api.put(f"/v1/users/{admin.id}/roles", json={"roles": ["user"]}, token=admin.token),
                     api.delete(f"/v1/users/{admin.id}", token=admin.token)):
        # Then demoting or deleting them is 409 CONFLICT
        assert response.status == 409, response.body
        assert response.error["code"] == "CONFLICT"
    # And they are still an admin with a working token
    assert api.get("/v1/users/profile", token=admin.token).data["user"]["roles"] == ["user", "admin"]


def _someone_waits_on_a_lock(database_url: str) -> bool:
    engine = factory_engine(database_url)
    with engine.connect() as connection:
        waiting = connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )).scalar_one()
    return bool(waiting)


def test_concurrent_demotions_cannot_remove_every_admin(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given two admins, and a first transaction that demoted one of them but has not committed yet
    url = api.env_overrides["DATABASE_URL"]
    other = make_user(url, email="second@example.com", roles=("user", "admin"))
    api.get("/v1/users/profile", token=admin.token)  # loads the function's environment for shared.db
    from shared import db
    from shared.dependencies import dependencies
    from shared.errors import Conflict
    from users_api.repository import set_roles

    first = dependencies().database.engine.connect()
    first_tx = first.begin()
    set_roles(first, admin.id, ["user"])

    def demote_other() -> str:
        try:
            db.write(lambda connection: set_roles(connection, other.id, ["user"]))
        except Conflict:
            return "conflict"
        return "ok"

    # When a second transaction demotes the other admin meanwhile
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(demote_other)
        deadline = time.monotonic() + 10
        while not second.done() and not _someone_waits_on_a_lock(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Then it waits for the first instead of deciding on a stale view
        assert not second.done(), "second demotion did not wait for the admin lock"
        first_tx.commit()
        first.close()
        # And once the first commits, it sees the last admin and refuses
        assert second.result(timeout=10) == "conflict"
    engine = factory_engine(url)
    with engine.connect() as connection:
        admins = connection.execute(select(users.c.id).where(literal("admin") == func.any(users.c.roles))).all()
    assert [row.id for row in admins] == [other.id]


def test_delete_user_cascades_to_orders(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given a user with an order row
    (user,) = add_users(api, 1)
    engine = factory_engine(api.env_overrides["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(insert(orders).values(user_id=user.id, total_amount=10,
                                                 items=[{"product": "x", "quantity": 1, "price": "10.00"}]))
    # When the admin deletes the user
    response = api.delete(f"/v1/users/{user.id}", token=admin.token)
    # Then 200, the user is gone, and so are their orders
    assert response.status == 200, response.body
    assert response.data == {"deleted": True, "id": str(user.id)}
    assert api.get(f"/v1/users/{user.id}", token=admin.token).status == 404
    with engine.connect() as connection:
        left = connection.execute(select(func.count()).select_from(orders)
                                  .where(orders.c.user_id == user.id)).scalar_one()
    engine.dispose()
    assert left == 0
    # And deleting again is 404
    assert api.delete(f"/v1/users/{user.id}", token=admin.token).status == 404


def test_admin_may_delete_another_admin_but_not_the_last(api: ApiClient, admin: factories.SeededUser) -> None:
    other = make_user(api.env_overrides["DATABASE_URL"], email="second@example.com", roles=("user", "admin"))
    assert api.delete(f"/v1/users/{other.id}", token=admin.token).status == 200
    assert api.delete(f"/v1/users/{admin.id}", token=admin.token).status == 409
