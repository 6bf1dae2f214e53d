"""The dashboard's rate arithmetic (local/dashboard/site/rates.js), run in the browser against a fake /metrics.

/metrics sums whole minutes; the reader must turn consecutive readings into exactly the requests
recorded between them, also when a minute boundary falls between two readings and when its guess of
the server's minute is wrong.
"""

from __future__ import annotations

from typing import Any

from selenium import webdriver

from local.stack import Stack

# A fake server: counters per minute, `minutes=k` sums the last k; the browser clock is separate.
SCENARIO = """
const done = arguments[arguments.length - 1];
const { CounterReader, RateWindow } = await import("/_dashboard/rates.js");
const perMinute = new Map();  // minute -> {route: {status: n}}
let server = (100 * 60 + 50) * 1000, browser = 0;
const record = (route, status, n) => {
  const minute = Math.floor(server / 60000);
  const routes = perMinute.get(minute) || {};
  routes[route] = routes[route] || {};
  routes[route][status] = (routes[route][status] || 0) + n;
  perMinute.set(minute, routes);
};
const iso = (ms) => new Date(ms).toISOString().replace(/\\.\\d+Z$/, "Z");
const calls = [];
const fetchMetrics = async (k) => {
  calls.push(k);
  const last = Math.floor(server / 60000), routes = {};
  for (let m = last - k + 1; m <= last; m += 1)
    for (const [route, byStatus] of Object.entries(perMinute.get(m) || {}))
      for (const [status, n] of Object.entries(byStatus)) {
        routes[route] = routes[route] || { by_status: {} };
        routes[route].by_status[status] = (routes[route].by_status[status] || 0) + n;
      }
  return { window: { from: iso((last - k + 1) * 60000), to: iso(server) }, routes,
           rate_limit: { rejected: 0, fail_open: 0 } };
};
const reader = new CounterReader(fetchMetrics, () => browser);
const results = [await reader.read()];             // 100:50, first reading: no step yet
record("GET /a", "200", 7);                          // before the baseline minute ends
server += 15000; browser += 15000;                   // 101:05
record("GET /a", "200", 2); record("GET /a", "429", 1);
results.push(await reader.read());                   // spans minutes 100 and 101
server += 70000; browser += 10000;                   // the server's clock jumps: 102:15, browser +10 s
record("GET /b", "503", 4);
results.push(await reader.read());                   // first guess (minute 101) is wrong: asks again
const window = new RateWindow(60);
for (const step of results.slice(1)) window.add(step.seconds, step.counts);
const plain = (step) => step && { seconds: step.seconds, counts: Object.fromEntries(step.counts) };
done({ steps: results.map(plain), calls, perMinute: Object.fromEntries(window.perMinute()),
       covered: window.covered() });
"""


def test_rates_are_the_growth_between_readings_across_minute_boundaries(browser: webdriver.Chrome,
                                                                        stack: Stack) -> None:
    # Given the dashboard's scripts, loaded from the gateway
    browser.get(f"{stack.base_url}/_dashboard/")
    # When the reader follows a fake /metrics through two minute boundaries and a clock jump
    result: dict[str, Any] = browser.execute_async_script(SCENARIO)
    first, second, third = result["steps"]
    # Then the first reading is only a baseline
    assert first is None
    # And each later one is exactly what was recorded in between, over the browser's elapsed time
    assert second == {"seconds": 15, "counts": {"GET /a|2xx": 9, "GET /a|4xx": 1, "rejected": 0, "fail_open": 0}}
    assert third == {"seconds": 10, "counts": {"GET /a|2xx": 0, "GET /a|4xx": 0, "GET /b|5xx": 4,
                                               "rejected": 0, "fail_open": 0}}
    # And the wrong guess cost one extra call: baseline 1, then 2, then 2 (wrong) and 3
    assert result["calls"] == [1, 2, 2, 3]
    # And per-minute rates are counts over the 25 s covered, times 60
    assert result["covered"] == 25
    assert result["perMinute"]["GET /a|2xx"] == 9 * 60 / 25
    assert result["perMinute"]["GET /b|5xx"] == 4 * 60 / 25
