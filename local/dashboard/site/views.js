// Drawing: four Chart.js charts (the library is vendored at install time: `make dashboard-deps`) and two
// tables. Without the library the chart boxes say how to install it; the tables still work.
// Everything from the API is written with textContent, never as HTML.
import { STATUS_CLASSES } from "./rates.js";

const HISTORY = 60; // points kept on the time charts
const COLOURS = {
  "2xx": "#2e7d32", "3xx": "#1565c0", "4xx": "#ef6c00", "5xx": "#c62828",
  p50: "#1565c0", p95: "#ef6c00", p99: "#c62828", rejected: "#ef6c00", fail_open: "#6a1b9a",
};
const $ = (id) => document.getElementById(id);
const round1 = (n) => Math.round(n * 10) / 10;

function timeChart(id, series, yTitle) {
  return new window.Chart($(id), {
    type: "line",
    data: {
      labels: [],
      datasets: series.map(([key, label]) => ({ label, data: [], borderColor: COLOURS[key], backgroundColor: COLOURS[key], spanGaps: true })),
    },
    options: {
      animation: false,
      scales: {
        x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        y: { beginAtZero: true, title: { display: true, text: yTitle } },
      },
    },
  });
}

export function makeCharts() {
  for (const canvas of document.querySelectorAll("canvas")) window.Chart?.getChart(canvas)?.destroy();
  if (!window.Chart) {
    for (const box of document.querySelectorAll(".chart")) box.classList.add("missing");
    return {};
  }
  const routes = new window.Chart($("chart-routes"), {
    type: "bar",
    data: { labels: [], datasets: STATUS_CLASSES.map((cls) => ({ label: cls, data: [], backgroundColor: COLOURS[cls] })) },
    options: {
      indexAxis: "y",
      animation: false,
      scales: {
        x: { stacked: true, beginAtZero: true, title: { display: true, text: "requests per minute" } },
        y: { stacked: true, ticks: { autoSkip: false } }, // every route named
      },
    },
  });
  return {
    routes,
    classes: timeChart("chart-classes", STATUS_CLASSES.map((cls) => [cls, cls]), "requests per minute"),
    latency: timeChart("chart-latency", [["p50", "p50"], ["p95", "p95"], ["p99", "p99"]], "ms (bucket upper bound)"),
    limits: timeChart("chart-limits", [["rejected", "rate-limit rejections"], ["fail_open", "limiter fail-opens"]], "per minute"),
  };
}

export function pushPoint(chart, label, values) {
  if (!chart) return;
  chart.data.labels.push(label);
  values.forEach((value, i) => chart.data.datasets[i].data.push(value === null ? null : round1(value)));
  if (chart.data.labels.length > HISTORY) {
    chart.data.labels.shift();
    for (const dataset of chart.data.datasets) dataset.data.shift();
  }
  chart.update("none");
}

/** The bar chart (rates over the last `covered` seconds) and the per-route table (the latency window). */
export function showRoutes(charts, rates, latest, covered) {
  const active = new Set();
  for (const [key, n] of rates) if (key.includes("|") && n > 0) active.add(key.slice(0, key.lastIndexOf("|")));
  const routes = [...active].sort();
  if (charts.routes) {
    charts.routes.data.labels = routes;
    charts.routes.data.datasets.forEach((dataset, i) => {
      dataset.data = routes.map((route) => round1(rates.get(`${route}|${STATUS_CLASSES[i]}`) || 0));
    });
    charts.routes.update("none");
  }
  $("rate-window").textContent = covered > 0 ? `the last ${Math.round(covered)} s` : "(waiting for a second reading)";
  const rows = Object.entries(latest.routes).map(([route, totals]) => [
    route, totals.total, ...STATUS_CLASSES.map((cls) => classTotal(totals.by_status, cls)),
    totals.latency_ms.p50, totals.latency_ms.p95, totals.latency_ms.p99, totals.rate_limited,
  ]);
  fillTable($("routes"), rows);
}

function classTotal(byStatus, cls) {
  return Object.entries(byStatus).reduce((sum, [code, n]) => (code[0] === cls[0] ? sum + n : sum), 0);
}

export function showBreakers(health) {
  const rows = Object.entries(health.circuit_breakers).map(([name, breaker]) => [
    name, breaker.state, breaker.failures, breaker.opened_at ?? "–", breaker.retry_after ?? "–",
    Object.entries(breaker.transitions).map(([move, n]) => `${move.replaceAll("_to_", " → ")}: ${n}`).join(", ") || "none",
  ]);
  fillTable($("breakers"), rows);
  for (const row of $("breakers").rows) {
    row.dataset.breaker = row.cells[0].textContent;
    row.cells[1].className = `badge ${row.cells[1].textContent}`;
  }
}

function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const value of cells) tr.insertCell().textContent = value ?? "–";
    return tr;
  }));
}
