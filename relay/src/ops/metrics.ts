/** Latency buckets in seconds (Prometheus convention). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/gu, '\\\\').replace(/"/gu, '\\"').replace(/\n/gu, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * A series' identity in the maps below: its name and labels, each length-prefixed, so no label
 * value (some come from Antom's answers) can make two series one. Cheaper than the exposition
 * text, whose escaping runs once, when the series is new (every answered request counts into
 * three series: issue 17).
 */
function seriesId(name: string, labels: Labels): string {
  let id = name;
  for (const k in labels) {
    const v = labels[k] as string;
    id += ` ${k.length}:${k}${v.length}:${v}`;
  }
  return id;
}

interface Histogram {
  name: string;
  text: string;
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Process-local metrics in the Prometheus text format (written by hand: no client library).
 * Counters and histograms are per process, as Prometheus expects; the outbox backlog is read
 * from the database at scrape time, so every relay reports the shared figure.
 */
export class Metrics {
  readonly #counters = new Map<string, { name: string; text: string; value: number }>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #help = new Map<string, { type: 'counter' | 'histogram' | 'gauge'; help: string }>();

  constructor() {
    this.#help.set('relay_http_requests_total', { type: 'counter', help: 'HTTP requests by method, route and status code.' });
    this.#help.set('relay_http_request_duration_seconds', { type: 'histogram', help: 'HTTP request latency by method and route.' });
    this.#help.set('relay_antom_calls_total', { type: 'counter', help: 'Antom API calls by endpoint and result code (unknown:<reason> without an answer).' });
    this.#help.set('relay_antom_call_duration_seconds', { type: 'histogram', help: 'Antom API call latency by endpoint.' });
    this.#help.set('relay_rejected_total', { type: 'counter', help: 'Requests refused by rate limiting (429) or admission control (503).' });
  }

  /** Adds to a counter. */
  inc(name: string, labels: Labels, by = 1): void {
    const key = seriesId(name, labels);
    const c = this.#counters.get(key);
    if (c) c.value += by;
    else this.#counters.set(key, { name, text: labelText(labels), value: by });
  }

  /** Records an observation in a histogram (seconds). */
  observe(name: string, labels: Labels, seconds: number): void {
    const key = seriesId(name, labels);
    let h = this.#histograms.get(key);
    if (!h) {
      h = { name, text: labelText(labels), labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#histograms.set(key, h);
    }
    // Buckets are ascending: count from the first that holds the value (no iterator per observation).
    const counts = h.counts;
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= (BUCKETS[i] as number); i--) counts[i] = (counts[i] as number) + 1;
    h.sum += seconds;
    h.count += 1;
  }

  /** The exposition text; `gauges` are values read at scrape time. */
  render(gauges: { name: string; help: string; value: number }[]): string {
    const lines: string[] = [];
    const byName = new Map<string, string[]>();
    const push = (name: string, line: string): void => {
      const list = byName.get(name) ?? [];
      list.push(line);
      byName.set(name, list);
    };
    for (const c of this.#counters.values()) push(c.name, `${c.name}${c.text} ${c.value}`);
    for (const h of this.#histograms.values()) {
      const name = h.name;
      for (const [i, b] of BUCKETS.entries()) push(name, `${name}_bucket${labelText({ ...h.labels, le: String(b) })} ${h.counts[i]}`);
      push(name, `${name}_bucket${labelText({ ...h.labels, le: '+Inf' })} ${h.count}`);
      push(name, `${name}_sum${h.text} ${h.sum}`);
      push(name, `${name}_count${h.text} ${h.count}`);
    }
    for (const [name, meta] of this.#help) {
      lines.push(`# HELP ${name} ${meta.help}`, `# TYPE ${name} ${meta.type}`, ...(byName.get(name) ?? []));
    }
    for (const g of gauges) lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.value}`);
    return `${lines.join('\n')}\n`;
  }
}
