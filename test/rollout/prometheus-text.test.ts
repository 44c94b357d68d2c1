import { describe, expect, it } from 'vitest';
import { parsePrometheusText, traefikMetricsFromText } from '../../src/rollout/prometheus-text.js';

// The shape of Traefik v3's /metrics (trimmed), with its HELP/TYPE lines.
const TRAEFIK = `# HELP traefik_config_reloads_total Config reloads
# TYPE traefik_config_reloads_total counter
traefik_config_reloads_total 3
# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.
# TYPE traefik_service_requests_total counter
traefik_service_requests_total{code="200",method="GET",protocol="http",service="web-shop@docker"} 17
traefik_service_requests_total{code="200",method="POST",protocol="http",service="web-shop@docker"} 3
traefik_service_requests_total{code="502",method="GET",protocol="http",service="web-shop@docker"} 2
traefik_service_requests_total{code="200",method="GET",protocol="http",service="api@internal"} 40
# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.
# TYPE traefik_service_request_duration_seconds histogram
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="web-shop@docker",le="0.1"} 15
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="web-shop@docker",le="0.3"} 17
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="web-shop@docker",le="+Inf"} 17
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="web-shop@docker",le="0.1"} 0
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="web-shop@docker",le="0.3"} 1
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="web-shop@docker",le="+Inf"} 2
traefik_service_request_duration_seconds_sum{code="200",method="GET",protocol="http",service="web-shop@docker"} 1.25
traefik_service_request_duration_seconds_count{code="200",method="GET",protocol="http",service="web-shop@docker"} 17
# HELP traefik_service_server_up service server is up, described by gauge value of 0 or 1.
# TYPE traefik_service_server_up gauge
traefik_service_server_up{service="web-shop@docker",url="http://172.18.0.5:80"} 1
traefik_service_server_up{service="web-shop@docker",url="http://172.18.0.6:80"} 0
`;

describe('parsePrometheusText', () => {
  it('reads names, labels, values and skips comments', () => {
    const s = parsePrometheusText('# HELP x y\nx 1\ny{a="b",c="d"} 2.5 1700000000000\n\nz{} +Inf\nw -Inf\nv NaN\n');
    expect(s.map((x) => [x.name, x.labels, x.value])).toEqual([
      ['x', {}, 1],
      ['y', { a: 'b', c: 'd' }, 2.5],
      ['z', {}, Infinity],
      ['w', {}, -Infinity],
      ['v', {}, NaN],
    ]);
  });

  it('unescapes label values (\\\\, \\", \\n) and keeps commas and braces inside them', () => {
    const [s] = parsePrometheusText('m{a="x\\\\y",b="say \\"hi\\"",c="1\\n2",d="p{q},r"} 1e3');
    expect(s).toEqual({ name: 'm', labels: { a: 'x\\y', b: 'say "hi"', c: '1\n2', d: 'p{q},r' }, value: 1000 });
  });

  it('skips lines it cannot read instead of failing the whole text', () => {
    const s = parsePrometheusText('good 1\nbad{a="unterminated} 1\nworse{=1} 2\nnovalue\nalso_good{a="b"} 2\r\n');
    expect(s.map((x) => x.name)).toEqual(['good', 'also_good']);
  });

  it('filters by name before parsing the labels', () => {
    expect(parsePrometheusText(TRAEFIK, (n) => n === 'traefik_config_reloads_total')).toEqual([
      { name: 'traefik_config_reloads_total', labels: {}, value: 3 },
    ]);
  });
});

describe('traefikMetricsFromText', () => {
  it('sums requests per service and code, buckets per service and bound, and reads server_up', () => {
    const m = traefikMetricsFromText(TRAEFIK);
    expect(m.requests).toEqual([
      { service: 'web-shop@docker', code: 200, count: 20 },
      { service: 'web-shop@docker', code: 502, count: 2 },
      { service: 'api@internal', code: 200, count: 40 },
    ]);
    expect(m.durationBuckets).toEqual([
      { service: 'web-shop@docker', le: 0.1, count: 15 },
      { service: 'web-shop@docker', le: 0.3, count: 18 },
      { service: 'web-shop@docker', le: Infinity, count: 19 },
    ]);
    expect(m.serverUp).toEqual([
      { service: 'web-shop@docker', url: 'http://172.18.0.5:80', up: true },
      { service: 'web-shop@docker', url: 'http://172.18.0.6:80', up: false },
    ]);
  });

  it('returns empty families for a text without them', () => {
    expect(traefikMetricsFromText('process_cpu_seconds_total 1\n')).toEqual({ requests: [], durationBuckets: [], serverUp: [] });
  });
});
