// Honest per-minute rates from GET /metrics, which only returns counters summed over whole minutes.
//
// /metrics?minutes=k adds up the counters of the last k minutes, the current one included. A minute's
// counters only ever grow, so two readings that start at the SAME minute differ by exactly what was
// recorded between them. The reader keeps a fixed first minute (`start`), asks for
// k = current minute - start + 1 at every refresh, and turns the difference between consecutive
// readings into a rate over the time that passed between them (the browser's clock: the server's
// `window.to` only has whole seconds). Every MAX_SPAN minutes `start` moves up to the current minute
// with one extra call; what is recorded between those two calls is missed (a request or two).

export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"];
export const MAX_SPAN = 10;

export const statusClass = (code) => `${String(code)[0]}xx`;
export const minuteOf = (iso) => Math.floor(Date.parse(iso) / 60000);

/** One /metrics body flattened to counters: "ROUTE|2xx" -> n, "rejected" -> n, "fail_open" -> n. */
export function counters(metrics) {
  const out = new Map();
  for (const [route, totals] of Object.entries(metrics.routes)) {
    for (const [code, n] of Object.entries(totals.by_status)) {
      const key = `${route}|${statusClass(code)}`;
      out.set(key, (out.get(key) || 0) + n);
    }
  }
  out.set("rejected", metrics.rate_limit.rejected);
  out.set("fail_open", metrics.rate_limit.fail_open);
  return out;
}

/** What was recorded between two readings over the same first minute. */
export function difference(before, after) {
  const out = new Map();
  for (const [key, n] of after) out.set(key, Math.max(0, n - (before.get(key) || 0)));
  return out;
}

/** Keeps the differences of the last `seconds` and turns them into counts per minute. */
export class RateWindow {
  constructor(seconds = 60) {
    this.seconds = seconds;
    this.steps = [];
  }

  add(seconds, counts) {
    this.steps.push({ seconds, counts });
    while (this.steps.length > 1 && this.covered() - this.steps[0].seconds >= this.seconds) this.steps.shift();
  }

  covered() {
    return this.steps.reduce((sum, step) => sum + step.seconds, 0);
  }

  perMinute() {
    const sums = new Map();
    for (const { counts } of this.steps) for (const [key, n] of counts) sums.set(key, (sums.get(key) || 0) + n);
    const covered = this.covered();
    const rates = new Map();
    for (const [key, n] of sums) rates.set(key, covered > 0 ? (n * 60) / covered : 0);
    return rates;
  }
}

/** Reads /metrics at every refresh; `read()` gives {seconds, counts} since the last reading, or null. */
export class CounterReader {
  constructor(fetchMetrics, now = () => Date.now()) {
    this.fetchMetrics = fetchMetrics; // minutes -> /metrics data (throws on an error answer)
    this.now = now;
    this.start = null; // first minute of every reading
    this.last = null; // {counts, at}: the previous reading and the browser time it arrived
    this.offset = 0; // server clock minus browser clock, from `window.to` (whole seconds)
  }

  serverMinute() {
    return Math.floor((this.now() + this.offset) / 60000);
  }

  async fetch(minutes) {
    const data = await this.fetchMetrics(Math.min(60, Math.max(1, minutes)));
    const at = this.now();
    this.offset = Date.parse(data.window.to) - at;
    return { data, at };
  }

  async rebase() {
    const { data, at } = await this.fetch(1);
    this.start = minuteOf(data.window.from);
    this.last = { counts: counters(data), at };
  }

  async read() {
    if (this.start === null) {
      await this.rebase();
      return null;
    }
    // Two tries: the first may straddle a minute boundary; its answer tells the server's minute exactly.
    let minutes = this.serverMinute() - this.start + 1;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const { data, at } = await this.fetch(minutes);
      const first = minuteOf(data.window.from);
      if (first === this.start) {
        const counts = counters(data);
        const step = { seconds: (at - this.last.at) / 1000, counts: difference(this.last.counts, counts) };
        this.last = { counts, at };
        if (minutes >= MAX_SPAN) await this.rebase();
        return step;
      }
      minutes += first - this.start; // the server's minute is first + minutes - 1
      if (minutes < 1 || minutes > 60) break;
    }
    await this.rebase(); // lost track (a long pause, or a clock jump): start again from here
    return null;
  }
}
