import { createRequire } from 'node:module';

/**
 * The Prometheus text exposition format, read by parse-prometheus-text-format (a parser that
 * follows Prometheus' own rules for HELP, TYPE, labels, escapes and histograms), so a test sees
 * what a Prometheus server would scrape.
 */

export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: PromSample[];
}

const require = createRequire(import.meta.url);
const parse = require('parse-prometheus-text-format') as (text: string) => PromFamily[];

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The value of one sample of a family, found by its labels (NaN when absent). */
export function sample(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? Number.NaN : Number(found.value);
}
