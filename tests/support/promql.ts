import { parser } from '@prometheus-io/lezer-promql';

/** Grafana's interval variables, replaced by a plain duration so a panel's query parses as PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll(/\$__(rate_)?interval|\$\{?__range\}?/g, '5m');
}

/** Syntax errors of a PromQL expression (Prometheus' own Lezer grammar), and the metric names it selects. */
export function parsePromql(expr: string): { errors: number; metrics: string[] } {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  let errors = 0;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors++;
      if (node.name !== 'VectorSelector') return;
      const name = node.node.getChild('Identifier');
      if (name) metrics.push(expr.slice(name.from, name.to));
    },
  });
  return { errors, metrics };
}
