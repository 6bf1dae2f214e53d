// The dashboard: log in (POST /v1/users/login), then every few seconds read GET /health and GET /metrics
// and draw them. It calls the public API of the origin that serves it, nothing else. `?refresh=SECONDS`
// (at least 2) changes the pace; every refresh costs two or three /metrics calls against the caller's
// rate limit (100 a minute by default) and one /health call against the address's.
import { CounterReader, RateWindow, STATUS_CLASSES } from "./rates.js";
import { makeCharts, pushPoint, showBreakers, showRoutes } from "./views.js";

const REFRESH_SECONDS = Math.max(2, Number(new URLSearchParams(location.search).get("refresh")) || 5);
const LATENCY_MINUTES = 5;
const TOKEN_KEY = "dashboard-token"; // sessionStorage: gone when the tab closes

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
  }
}

async function call(path, { token, method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const json = await response.json().catch(() => null);
  return { status: response.status, json };
}

async function data(path, token) {
  const { status, json } = await call(path, { token });
  if (status !== 200 || !json?.success) throw new ApiError(status, json);
  return json.data;
}

function showLogin(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("login").hidden = false;
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const { status, json } = await call("/v1/users/login", {
    method: "POST",
    body: { email: form.get("email"), password: form.get("password") },
  });
  if (status !== 200) return showLogin(json?.error?.message || `Login failed (HTTP ${status})`);
  sessionStorage.setItem(TOKEN_KEY, json.data.token);
  start(json.data.token);
}

function start(token) {
  $("login").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = false;
  $("refresh-seconds").textContent = REFRESH_SECONDS;
  const charts = makeCharts();
  const reader = new CounterReader((minutes) => data(`/metrics?minutes=${minutes}`, token));
  const recent = new RateWindow(60);
  let refreshes = 0;

  async function refresh() {
    try {
      // A reading counts even when another call of this refresh fails: its growth is not read again.
      const counted = reader.read().then((step) => step && recent.add(step.seconds, step.counts));
      // /health answers 503 with the same body when degraded: that is data too.
      const [health, latest] = await Promise.all([
        call("/health").then(({ status, json }) => (json?.data ? json.data : Promise.reject(new ApiError(status, json)))),
        data(`/metrics?minutes=${LATENCY_MINUTES}`, token),
        counted,
      ]);
      const label = new Date().toLocaleTimeString([], { hour12: false });
      const rates = recent.perMinute();
      showRoutes(charts, rates, latest, recent.covered());
      const measured = recent.covered() > 0; // no rate before a second reading: a gap, not a zero
      const rate = (value) => (measured ? value : null);
      pushPoint(charts.classes, label, STATUS_CLASSES.map((cls) => rate(sumClass(rates, cls))));
      pushPoint(charts.latency, label, ["p50", "p95", "p99"].map((p) => latest.requests.latency_ms[p]));
      pushPoint(charts.limits, label, [rate(rates.get("rejected") || 0), rate(rates.get("fail_open") || 0)]);
      showBreakers(health);
      $("health").textContent = health.status;
      $("health").className = `badge ${health.status}`;
      $("status").textContent = `Updated ${label}`;
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
    } catch (error) {
      if (error.status === 401) return showLogin("Your session has ended: log in again.");
      $("status").textContent = `Refresh failed: ${error.message}`;
    }
    setTimeout(refresh, REFRESH_SECONDS * 1000);
  }
  refresh();
}

function sumClass(rates, cls) {
  let sum = 0;
  for (const [key, n] of rates) if (key.endsWith(`|${cls}`)) sum += n;
  return sum;
}

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else showLogin();
