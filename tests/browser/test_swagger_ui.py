"""Swagger UI at /_docs, driven like a person would: register, log in, Authorize, create and list orders.

Every request is sent by Swagger UI's "Try it out" / "Execute" against the running stack (the
document's first server is the gateway that serves the page); the test only reads what the UI shows.
"""

from __future__ import annotations

import json
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from local.stack import Stack
from tests.browser.chromium import screenshot
from tests.browser.conftest import PASSWORD, new_email

WAIT = 30  # a deadline for the UI to reach a state, not a speed claim


def operation(driver: webdriver.Chrome, tag: str, operation_id: str) -> WebElement:
    """The operation's block, expanded, with "Try it out" switched on."""
    block_id = f"operations-{tag}-{operation_id}"
    block = WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.ID, block_id)))
    summary = block.find_element(By.CSS_SELECTOR, ".opblock-summary-control")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    try_out = WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"#{block_id} .try-out__btn"))
    try_out.click()
    return driver.find_element(By.ID, block_id)


def execute(driver: webdriver.Chrome, block: WebElement, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Type the JSON body (if any), press Execute; the status and body Swagger UI shows for the answer."""
    if body is not None:
        editor = block.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
        editor.clear()
        editor.send_keys(json.dumps(body, separators=(",", ":")))
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status_cell = WebDriverWait(driver, WAIT).until(
        lambda d: block.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"))
    shown = block.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_description pre")
    return int(status_cell.text.split()[0]), json.loads(shown.text)


def authorize(driver: webdriver.Chrome, token: str) -> None:
    driver.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
    dialog = WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.CSS_SELECTOR, ".modal-ux"))
    dialog.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys(token)
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.btn-done").click()


def test_register_login_authorize_and_create_an_order_through_swagger_ui(browser: webdriver.Chrome,
                                                                         stack: Stack) -> None:
    # Given Swagger UI served by the running stack
    browser.get(f"{stack.base_url}/_docs")
    email = new_email()
    # When a user registers and logs in with "Try it out"
    status, shown = execute(browser, operation(browser, "users", "register_v1_users_register_post"),
                            {"email": email, "password": PASSWORD, "name": "Swagger"})
    assert (status, shown["data"]["user"]["email"]) == (201, email)
    status, shown = execute(browser, operation(browser, "users", "login_v1_users_login_post"),
                            {"email": email, "password": PASSWORD})
    assert status == 200
    # And pastes the token it shows into "Authorize"
    authorize(browser, shown["data"]["token"])
    # Then creating an order through the UI is a 201 with the created order
    create = operation(browser, "orders", "create_order_v1_orders_post")
    status, shown = execute(browser, create, {"items": [{"product": "Keyboard", "quantity": 2, "price": 49.5}]})
    assert status == 201
    assert shown["data"]["order"]["status"] == "created"
    assert shown["data"]["order"]["total_amount"] == 99.0
    answer = create.find_element(By.CSS_SELECTOR, ".live-responses-table")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", answer)
    screenshot(browser, "swagger-ui")
    # And listing orders through the UI shows it
    status, shown = execute(browser, operation(browser, "orders", "list_orders_v1_orders_get"))
    assert status == 200
    assert [order["id"] for order in shown["data"]["orders"]] == [create_id(create)]


def create_id(block: WebElement) -> str:
    shown = block.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_description pre")
    return str(json.loads(shown.text)["data"]["order"]["id"])
