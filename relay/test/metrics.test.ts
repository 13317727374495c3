import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/ops/metrics.ts';

describe('process metrics', () => {
  it('counts each series apart, whatever its label values hold, and escapes them in the exposition', () => {
    const m = new Metrics();
    m.inc('relay_antom_calls_total', { endpoint: 'pay', result: 'SUCCESS' });
    m.inc('relay_antom_calls_total', { endpoint: 'pay', result: 'SUCCESS' });
    // A value shaped like another series' identity (some values come from Antom's answers).
    m.inc('relay_antom_calls_total', { endpoint: 'pay 6:result7:SUCCESS' });
    m.inc('relay_antom_calls_total', { endpoint: 'pay', result: 'a"b\\c\nd' }, 3);
    const lines = m.render([]).split('\n');
    expect(lines).toContain('relay_antom_calls_total{endpoint="pay",result="SUCCESS"} 2');
    expect(lines).toContain('relay_antom_calls_total{endpoint="pay 6:result7:SUCCESS"} 1');
    expect(lines).toContain('relay_antom_calls_total{endpoint="pay",result="a\\"b\\\\c\\nd"} 3');
    expect(lines.filter((l) => l.startsWith('relay_antom_calls_total{')).length).toBe(3);
  });

  it('renders a histogram as cumulative buckets, sum and count per series', () => {
    const m = new Metrics();
    const labels = { method: 'POST', route: '/v1/purchases' };
    m.observe('relay_http_request_duration_seconds', labels, 0.004);
    m.observe('relay_http_request_duration_seconds', labels, 0.02);
    m.observe('relay_http_request_duration_seconds', { method: 'GET', route: '/v1/wallets' }, 40);
    const text = m.render([]);
    const series = '{method="POST",route="/v1/purchases"';
    expect(text).toContain(`relay_http_request_duration_seconds_bucket${series},le="0.005"} 1`);
    expect(text).toContain(`relay_http_request_duration_seconds_bucket${series},le="0.025"} 2`);
    expect(text).toContain(`relay_http_request_duration_seconds_bucket${series},le="+Inf"} 2`);
    expect(text).toContain(`relay_http_request_duration_seconds_sum${series}} 0.024`);
    expect(text).toContain(`relay_http_request_duration_seconds_count${series}} 2`);
    expect(text).toContain('relay_http_request_duration_seconds_bucket{method="GET",route="/v1/wallets",le="30"} 0');
    expect(text).toContain('relay_http_request_duration_seconds_count{method="GET",route="/v1/wallets"} 1');
  });
});
