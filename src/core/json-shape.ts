/**
 * Checks that parsed JSON (config.json, secrets.json, an export file) has the shape the code expects,
 * and says where it does not: "connections.0.endpoint: expected a string, not a number". What a
 * schema library did here, in the few forms these files use: loading the library cost every
 * command ~95 ms of start-up, more than the rest of `hcm list` together.
 *
 * A value passes unchanged, keys the shape does not name included (a newer version's optional
 * field survives an older version's rewrite).
 */

export interface ShapeProblem {
  path: Array<string | number>;
  message: string;
}

export interface Shape<T> {
  /** The first problem, or undefined when `value` is a T. */
  problem(value: unknown, path: Array<string | number>): ShapeProblem | undefined;
  /** Only a property of an object may be optional: it may then be missing or undefined. */
  readonly optional: boolean;
  /** Never set: carries T for Infer. */
  readonly type?: T;
}

export type Infer<S> = S extends Shape<infer T> ? T : never;

function shape<T>(problem: (value: unknown, path: Array<string | number>) => string | ShapeProblem | undefined): Shape<T> {
  return {
    optional: false,
    problem: (value, path) => {
      const p = problem(value, path);
      return typeof p === 'string' ? { path, message: p } : p;
    },
  };
}

/** What a value is, in words, for "expected X, not Y". */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true or false';
  return typeof value;
}

export function string(limits: { min?: number; max?: number } = {}): Shape<string> {
  return shape((v) => {
    if (typeof v !== 'string') return `expected a string, not ${kind(v)}`;
    if (limits.min !== undefined && v.length < limits.min)
      return limits.min === 1 ? 'expected a non-empty string' : `expected at least ${limits.min} characters`;
    if (limits.max !== undefined && v.length > limits.max) return `expected at most ${limits.max} characters`;
    return undefined;
  });
}

export function boolean(): Shape<boolean> {
  return shape((v) => (typeof v === 'boolean' ? undefined : `expected true or false, not ${kind(v)}`));
}

export function literal<const L extends string | number>(expected: L): Shape<L> {
  return shape((v) => (v === expected ? undefined : `expected ${JSON.stringify(expected)}, not ${JSON.stringify(v) ?? kind(v)}`));
}

export function oneOf<const V extends readonly string[]>(...values: V): Shape<V[number]> {
  return shape((v) =>
    typeof v === 'string' && values.includes(v)
      ? undefined
      : `expected one of ${values.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(v) ?? kind(v)}`,
  );
}

export function unknown(): Shape<unknown> {
  return shape(() => undefined);
}

export function nullable<T>(inner: Shape<T>): Shape<T | null> {
  return shape((v, path) => (v === null ? undefined : inner.problem(v, path)));
}

/** A property that may be missing (or undefined). */
export type OptionalShape<T> = Shape<T | undefined> & { readonly optional: true };

export function optional<T>(inner: Shape<T>): OptionalShape<T> {
  return { ...shape<T | undefined>((v, path) => (v === undefined ? undefined : inner.problem(v, path))), optional: true };
}

export function array<T>(item: Shape<T>, limits: { max?: number } = {}): Shape<T[]> {
  return shape((v, path) => {
    if (!Array.isArray(v)) return `expected a list, not ${kind(v)}`;
    if (limits.max !== undefined && v.length > limits.max) return `expected at most ${limits.max} items, not ${v.length}`;
    for (let i = 0; i < v.length; i++) {
      const p = item.problem(v[i], [...path, i]);
      if (p) return p;
    }
    return undefined;
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function record<T>(value: Shape<T>): Shape<Record<string, T>> {
  return shape((v, path) => {
    if (!isObject(v)) return `expected an object, not ${kind(v)}`;
    for (const [key, item] of Object.entries(v)) {
      const p = value.problem(item, [...path, key]);
      if (p) return p;
    }
    return undefined;
  });
}

type Props = Record<string, Shape<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K]['optional'] extends true ? K : never }[keyof P];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<P extends Props> = Simplify<
  { [K in Exclude<keyof P, OptionalKeys<P>>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Exclude<Infer<P[K]>, undefined> }
>;

export function object<P extends Props>(props: P): Shape<ObjectOf<P>> {
  return shape((v, path) => {
    if (!isObject(v)) return `expected an object, not ${kind(v)}`;
    for (const [key, prop] of Object.entries(props)) {
      if (!(key in v) && !prop.optional) return { path: [...path, key], message: 'missing' };
      const p = prop.problem(v[key], [...path, key]);
      if (p) return p;
    }
    return undefined;
  });
}

/** The value as a T, or the first problem, with its path joined by dots ("top level" for the root). */
export function check<T>(s: Shape<T>, value: unknown): { ok: true; value: T } | { ok: false; where: string; message: string } {
  const p = s.problem(value, []);
  if (!p) return { ok: true, value: value as T };
  return { ok: false, where: p.path.join('.') || 'top level', message: p.message };
}
