import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configMapsOf, containerEnv, CREATED_BY_HAND, workloads } from '../support/k8s-manifests.js';
import { parsePromql, withoutGrafanaVariables } from '../support/promql.js';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { KUSTOMIZE, REPO, render } from '../support/kustomize-render.js';

/**
 * The observability set-up checked offline: the alert rules with promtool (syntax and unit tests), the
 * Prometheus config, the Grafana dashboard's structure and PromQL, the OpenTelemetry Collector config,
 * the compose profile and the kustomize component (schemas: tests/k8s/manifests.test.ts).
 */
const OBSERVABILITY = join(REPO, 'observability');
const COMPONENT = join(KUSTOMIZE, 'components/observability');
const read = (path: string) => readFileSync(path, 'utf8');
const yamlOf = <T>(path: string) => parse(read(path)) as T;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: Array<{ refId: string; expr: string; datasource: { uid: string } }>;
}

const alerts = yamlOf<{ groups: Array<{ name: string; rules: Rule[] }> }>(join(OBSERVABILITY, 'prometheus/alerts.yml'));
const rules = alerts.groups.flatMap((group) => group.rules);
const dashboardText = read(join(OBSERVABILITY, 'grafana/dashboards/fibstack.json'));
const dashboard = JSON.parse(dashboardText) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string }> };
};

/** promtool (Debian's `prometheus` package; .ci/run installs it). Without it these checks cannot run. */
function promtool(args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: join(OBSERVABILITY, 'prometheus'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT')
      throw new Error('promtool is not on PATH: install Debian/Ubuntu package `prometheus` (or Prometheus from prometheus.io)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

describe('the Prometheus alert rules', () => {
  it('are valid rules (promtool check rules) and a valid config loads them (promtool check config)', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(promtool(['check', 'config', 'prometheus.yml'])).toContain('is valid prometheus config file syntax');
  });

  it('fire when they should and stay quiet otherwise (promtool test rules)', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toContain('SUCCESS');
  });

  it('cover the queue growing, job failures, API 5xx, readiness flapping and disk usage, each with a severity and a summary', () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'FibstackQueueGrowing',
      'FibstackJobFailureRatio',
      'FibstackApi5xxRatio',
      'FibstackReadinessFlapping',
      'FibstackDatabaseNearlyFull',
    ]);
    expect(rules.find((rule) => rule.alert === 'FibstackQueueGrowing')!.for).toBe('5m');
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(parsePromql(rule.expr).errors, rule.alert).toBe(0);
    }
  });

  it('are the same in the kustomize component, as a PrometheusRule', () => {
    const prometheusRule = yamlOf<{ kind: string; spec: { groups: unknown } }>(join(COMPONENT, 'prometheus-rule.yaml'));
    expect(prometheusRule.kind).toBe('PrometheusRule');
    expect(prometheusRule.spec.groups).toEqual(alerts.groups);
  });
});

describe('the Grafana dashboard', () => {
  it('is a provisionable dashboard: uid, title, unique panel ids, a Prometheus data source variable', () => {
    expect(dashboard).toMatchObject({ uid: 'fibstack-overview', title: 'fibstack', schemaVersion: expect.any(Number) });
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('lays its panels on the 24-column grid without overlap', () => {
    const cells = new Set<string>();
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries Prometheus in valid PromQL, through the data source variable', () => {
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe('${datasource}');
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource.uid, panel.title).toBe('${datasource}');
        expect(parsePromql(withoutGrafanaVariables(target.expr)).errors, `${panel.title}: ${target.expr}`).toBe(0);
      }
    }
  });

  it('shows request rate and latency, queue depth, jobs per second, submit → stored p50/p99 and errors', () => {
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    const uses = (metric: string, ...fragments: string[]) =>
      queries.some(
        (query) =>
          parsePromql(withoutGrafanaVariables(query)).metrics.includes(metric) && fragments.every((fragment) => query.includes(fragment)),
      );
    expect(uses('http_request_duration_seconds_count', 'rate(')).toBe(true);
    expect(uses('http_request_duration_seconds_bucket', 'histogram_quantile(0.99')).toBe(true);
    expect(uses('fibstack_queue_jobs', 'by (state)')).toBe(true);
    expect(uses('fibstack_worker_jobs_total', 'rate(')).toBe(true);
    expect(uses('fibstack_submit_to_stored_seconds_bucket', 'histogram_quantile(0.5,')).toBe(true);
    expect(uses('fibstack_submit_to_stored_seconds_bucket', 'histogram_quantile(0.99,')).toBe(true);
    expect(uses('http_request_duration_seconds_count', 'status=~"5.."')).toBe(true);
  });

  it('is the same JSON in the kustomize component, for the Grafana sidecar', () => {
    expect(read(join(COMPONENT, 'fibstack-dashboard.json'))).toBe(dashboardText);
  });
});

describe('the job names alerts and dashboard select', () => {
  const selected = [
    ...rules.map((rule) => rule.expr),
    ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
  ].flatMap((expr) => [...expr.matchAll(/job="([^"]+)"/g)].map((match) => match[1]!));

  it('are the ones Prometheus gives the targets, in compose and in Kubernetes', () => {
    const compose = yamlOf<{ scrape_configs: Array<{ job_name: string }> }>(
      join(OBSERVABILITY, 'prometheus/prometheus.yml'),
    ).scrape_configs.map((config) => config.job_name);
    const monitors = render({ overlay: 'base', components: ['observability'] }).filter((object) => /Monitor$/.test(object.kind));
    const kubernetes = monitors.flatMap((monitor) => {
      const spec = monitor.spec as {
        endpoints?: Array<{ relabelings: Array<{ targetLabel: string; replacement: string }> }>;
        podMetricsEndpoints?: Array<{ relabelings: Array<{ targetLabel: string; replacement: string }> }>;
      };
      return [...(spec.endpoints ?? []), ...(spec.podMetricsEndpoints ?? [])].flatMap((endpoint) =>
        endpoint.relabelings.filter((relabel) => relabel.targetLabel === 'job').map((relabel) => relabel.replacement),
      );
    });
    expect(new Set(selected)).toEqual(new Set(['fibstack-server']));
    for (const jobs of [compose, kubernetes]) expect(jobs).toEqual(expect.arrayContaining(['fibstack-server', 'fibstack-worker']));
  });
});

describe('the OpenTelemetry Collector config', () => {
  const config = yamlOf<{
    receivers: Record<string, { protocols: { http: { endpoint: string } } }>;
    processors: Record<string, unknown>;
    exporters: Record<string, { endpoint: string }>;
    extensions: Record<string, unknown>;
    service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  }>(join(OBSERVABILITY, 'otel-collector/config.yaml'));

  it('wires every pipeline to components it defines, traces from OTLP to Jaeger', () => {
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      for (const receiver of pipeline.receivers) expect(config.receivers, name).toHaveProperty([receiver]);
      for (const processor of pipeline.processors) expect(config.processors, name).toHaveProperty([processor]);
      for (const exporter of pipeline.exporters) expect(config.exporters, name).toHaveProperty([exporter]);
    }
    for (const extension of config.service.extensions) expect(config.extensions).toHaveProperty([extension]);
    expect(config.service.pipelines.traces).toMatchObject({ receivers: ['otlp'], exporters: ['otlp/jaeger'] });
    // memory_limiter first, as the collector's documentation requires.
    expect(config.service.pipelines.traces!.processors[0]).toBe('memory_limiter');
  });

  it('listens where the services send (compose and the kustomize component), and sends to the compose Jaeger', () => {
    const port = config.receivers.otlp!.protocols.http.endpoint.split(':')[1];
    const composeEnv = Object.fromEntries(
      read(join(OBSERVABILITY, 'compose.env'))
        .split('\n')
        .filter((line) => /^\w+=/.test(line))
        .map((line) => line.split('=') as [string, string]),
    );
    expect(composeEnv).toEqual({ COMPOSE_PROFILES: 'observability', OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel-collector:${port}` });
    const objects = render({ overlay: 'base', components: ['observability'] });
    const config_ = configMapsOf(objects)[Object.keys(configMapsOf(objects)).find((name) => name.startsWith('fibstack-config'))!]!;
    expect(new URL(config_.OTEL_EXPORTER_OTLP_ENDPOINT!).port).toBe(port);
    const compose = yamlOf<{ services: Record<string, { ports?: string[] }> }>(join(REPO, 'docker-compose.yml'));
    expect(config.exporters['otlp/jaeger']!.endpoint).toBe('jaeger:4317');
    expect(compose.services).toHaveProperty('jaeger');
  });
});

describe('the compose profile `observability`', () => {
  const compose = parse(read(join(REPO, 'docker-compose.yml')), { merge: true }) as {
    services: Record<
      string,
      { image: string; profiles?: string[]; volumes?: string[]; depends_on?: unknown; environment?: Record<string, string> }
    >;
  };
  const profiled = Object.entries(compose.services).filter(([, service]) => service.profiles);

  it('adds the collector, Jaeger, Prometheus and Grafana, pinned to a version, reading files that exist', () => {
    expect(profiled.map(([name]) => name).sort()).toEqual(['grafana', 'jaeger', 'otel-collector', 'prometheus']);
    for (const [name, service] of profiled) {
      expect(service.profiles, name).toEqual(['observability']);
      expect(service.image, name).toMatch(/^[a-z-]+\/[a-z-]+:v?\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(REPO, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it('is never needed by the default services, whose tracing is off unless an endpoint is given', () => {
    const names = new Set(profiled.map(([name]) => name));
    for (const [name, service] of Object.entries(compose.services).filter(([, service]) => !service.profiles)) {
      const dependencies = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys((service.depends_on as object | undefined) ?? {});
      expect(
        dependencies.filter((dependency: string) => names.has(dependency)),
        name,
      ).toEqual([]);
    }
    for (const name of ['server', 'worker']) {
      expect(compose.services[name]!.environment).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
        // The version is the image's own (its FIBSTACK_VERSION): one set here would hide it.
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=${FIBSTACK_ENVIRONMENT:-compose}',
      });
    }
  });
});

describe('the kustomize component `observability`', () => {
  it('reports `kubernetes` as the environment and leaves service.version to the image (the commit it was built from)', () => {
    const images = ['server', 'worker', 'client', 'nginx'].map((service) => ({
      name: `YOUR_REGISTRY/fibstack-${service}`,
      newName: `acme/fibstack-${service}`,
      digest: `sha256:${'a'.repeat(64)}`,
    }));
    const objects = render({ overlay: 'base', components: ['observability'], images });
    const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
    for (const { object, template } of workloads(objects).filter(({ object }) => ['server', 'worker'].includes(object.metadata.name))) {
      const env = containerEnv(template.spec.containers[0]!, configMaps, CREATED_BY_HAND.secrets);
      expect(env.OTEL_RESOURCE_ATTRIBUTES, object.metadata.name).toBe('deployment.environment.name=kubernetes');
      expect(env, object.metadata.name).not.toHaveProperty('FIBSTACK_VERSION');
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, object.metadata.name).toBe('http://otel-collector.observability.svc:4318');
    }
    for (const service of ['server', 'worker']) {
      const dockerfile = readFileSync(join(REPO, `${service}/Dockerfile`), 'utf8');
      expect(dockerfile, service).toMatch(/^ARG FIBSTACK_VERSION\nENV FIBSTACK_VERSION=\$\{FIBSTACK_VERSION\}\n/m);
    }
  });

  it('ships the dashboard as a ConfigMap the Grafana sidecar picks up, under a stable name', () => {
    const dashboardMap = render({ overlay: 'base', components: ['observability'] }).find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name === 'fibstack-grafana-dashboard',
    )!;
    expect(dashboardMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse((dashboardMap.data as Record<string, string>)['fibstack-dashboard.json']!)).toEqual(dashboard);
  });
});

describe('the kustomize component `bull-board`', () => {
  it("turns the dashboard on with the Secret's password, which the server's config validation accepts", () => {
    const objects = render({ overlay: 'eks', components: ['bull-board'] });
    const server = workloads(objects).find(({ object }) => object.metadata.name === 'server')!.template.spec.containers[0]!;
    const env = containerEnv(server, { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) }, CREATED_BY_HAND.secrets);
    expect(loadServerConfig(env)).toMatchObject({
      BULL_BOARD_ENABLED: true,
      BULL_BOARD_PASSWORD: CREATED_BY_HAND.secrets['fibstack-secrets'].BULL_BOARD_PASSWORD,
    });
    expect(server.env).toContainEqual({
      name: 'BULL_BOARD_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'fibstack-secrets', key: 'BULL_BOARD_PASSWORD' } },
    });
  });
});
