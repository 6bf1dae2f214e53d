"""/_dashboard in a real browser: login form, live charts from /metrics and /health, breakers.

The charts are checked through Chart.js's own data (Chart.getChart), not pixels.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from local.stack import Stack
from tests.browser.chromium import screenshot
from tests.browser.conftest import ORDER, ORDER_LIMIT, Account

WAIT = 60  # a deadline for the page to reach a state, not a speed claim


def chart_data(driver: webdriver.Chrome, canvas_id: str) -> dict[str, Any] | None:
    data: dict[str, Any] | None = driver.execute_script(
        "const chart = window.Chart && Chart.getChart(document.getElementById(arguments[0]));"
        "return chart ? {labels: chart.data.labels, datasets: chart.data.datasets.map("
        "  (d) => ({label: d.label, data: d.data}))} : null;", canvas_id)
    return data


def series(data: dict[str, Any] | None, label: str) -> list[Any]:
    assert data is not None
    return next(d["data"] for d in data["datasets"] if d["label"] == label)


def refreshes(driver: webdriver.Chrome) -> int:
    return int(driver.execute_script("return Number(document.body.dataset.refreshes || 0)"))


def log_in(driver: webdriver.Chrome, stack: Stack, account: Account) -> None:
    driver.get(f"{stack.base_url}/_dashboard?refresh=2")
    WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.ID, "login").is_displayed())
    driver.find_element(By.NAME, "email").send_keys(account.email)
    driver.find_element(By.NAME, "password").send_keys(account.password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def make_traffic(stack: Stack, account: Account) -> None:
    """Orders up to the limit (201), one more (429), a list (200) and an order that does not exist (404)."""
    base = stack.base_url
    for _ in range(ORDER_LIMIT):
        assert requests.post(f"{base}/v1/orders", json=ORDER, headers=account.headers, timeout=10).status_code == 201
    assert requests.post(f"{base}/v1/orders", json=ORDER, headers=account.headers, timeout=10).status_code == 429
    assert requests.get(f"{base}/v1/orders", headers=account.headers, timeout=10).status_code == 200
    missing = f"{base}/v1/orders/{uuid.uuid4()}"
    assert requests.get(missing, headers=account.headers, timeout=10).status_code == 404


def test_dashboard_shows_traffic_rates_latency_rejections_and_closed_breakers(
        browser: webdriver.Chrome, stack: Stack, account: Account) -> None:
    # Given the dashboard, logged in through its form, with a first reading of the counters taken
    log_in(browser, stack, account)
    WebDriverWait(browser, WAIT).until(lambda d: refreshes(d) >= 1)
    assert browser.find_element(By.ID, "board").is_displayed()
    # When requests of every kind go through the API
    make_traffic(stack, account)
    # Then the next readings turn them into per-minute rates by route and status class
    def order_rates_shown(driver: webdriver.Chrome) -> bool:
        data = chart_data(driver, "chart-routes")
        if data is None or "POST /v1/orders" not in data["labels"]:
            return False
        row = data["labels"].index("POST /v1/orders")
        return bool(series(data, "2xx")[row] > 0 and series(data, "4xx")[row] > 0)

    WebDriverWait(browser, WAIT).until(order_rates_shown)
    routes = chart_data(browser, "chart-routes")
    orders_row = routes["labels"].index("GET /v1/orders/{order_id}")  # type: ignore[index]
    assert series(routes, "4xx")[orders_row] > 0  # the 404
    # And the time charts have points: status classes, latency percentiles, rate-limit rejections
    WebDriverWait(browser, WAIT).until(lambda d: any(v and v > 0 for v in series(chart_data(d, "chart-limits"),
                                                                                  "rate-limit rejections")))
    assert any(v and v > 0 for v in series(chart_data(browser, "chart-classes"), "2xx"))
    latency = chart_data(browser, "chart-latency")
    for label in ("p50", "p95", "p99"):
        assert any(v is not None and v > 0 for v in series(latency, label)), label
    assert series(chart_data(browser, "chart-limits"), "limiter fail-opens")  # plotted (zero: DynamoDB is up)
    # And every breaker /health reports is listed as closed
    rows = browser.find_elements(By.CSS_SELECTOR, "#breakers tr")
    states = {row.get_attribute("data-breaker"): row.find_elements(By.TAG_NAME, "td")[1].text for row in rows}
    assert states == {"orders": "closed", "users": "closed"}
    assert browser.find_element(By.ID, "health").text == "healthy"
    # And nothing went wrong in the page (a script error, a file refused by the site's CSP)
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    screenshot(browser, "dashboard")


def test_without_the_chart_library_the_page_says_how_to_install_it(
        browser: webdriver.Chrome, stack: Stack, account: Account) -> None:
    # Given a browser that cannot load the vendored chart library (as when npm was missing at install)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/vendor/chart.umd.js"]})
    # When the dashboard is opened and logged into
    log_in(browser, stack, account)
    WebDriverWait(browser, WAIT).until(lambda d: refreshes(d) >= 1)
    # Then each chart box tells how to install the library, and the tables still fill in
    notices = browser.execute_script(
        "return [...document.querySelectorAll('.chart')].map((box) => getComputedStyle(box, '::after').content)")
    assert len(notices) == 4
    assert all("make install" in notice for notice in notices)
    assert browser.find_elements(By.CSS_SELECTOR, "#breakers tr")
