import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Infer,
  array,
  boolean,
  check,
  literal,
  nullable,
  object,
  oneOf,
  optional,
  record,
  string,
  unknown,
} from '../../src/core/json-shape.js';

const file = object({
  schemaVersion: literal(1),
  enabled: boolean(),
  items: array(
    object({
      id: string({ min: 1, max: 5 }),
      kind: oneOf('a', 'b'),
      owner: nullable(string()),
      extra: optional(object({ note: string() })),
    }),
    { max: 3 },
  ),
  keys: record(string()),
  anything: optional(unknown()),
});

const good = { schemaVersion: 1, enabled: true, items: [{ id: 'x', kind: 'a', owner: null }], keys: { x: 'k' } };
const problem = (value: unknown) => {
  const r = check(file, value);
  return r.ok ? 'ok' : `${r.where}: ${r.message}`;
};

describe('json-shape', () => {
  it('passes a value of the shape unchanged, keys it does not name included', () => {
    const value = { ...good, future: { kept: true } };
    const r = check(file, value);
    expect(r.ok && r.value).toBe(value);
  });

  it('says where the first problem is and what was expected instead', () => {
    expect(problem(null)).toBe('top level: expected an object, not null');
    expect(problem({ ...good, schemaVersion: 2 })).toBe('schemaVersion: expected 1, not 2');
    expect(problem({ ...good, enabled: 'yes' })).toBe('enabled: expected true or false, not a string');
    expect(problem({ ...good, items: {} })).toBe('items: expected a list, not an object');
    expect(problem({ ...good, items: [good.items[0], { id: '', kind: 'a', owner: null }] })).toBe(
      'items.1.id: expected a non-empty string',
    );
    expect(problem({ ...good, items: [{ id: 'toolong', kind: 'a', owner: null }] })).toBe('items.0.id: expected at most 5 characters');
    expect(problem({ ...good, items: [{ id: 'x', kind: 'c', owner: null }] })).toBe('items.0.kind: expected one of "a", "b", not "c"');
    expect(problem({ ...good, items: [{ id: 'x', kind: 'a' }] })).toBe('items.0.owner: missing');
    expect(problem({ ...good, items: [{ id: 'x', kind: 'a', owner: 7 }] })).toBe('items.0.owner: expected a string, not a number');
    expect(problem({ ...good, items: [{ ...good.items[0], extra: { note: [] } }] })).toBe(
      'items.0.extra.note: expected a string, not a list',
    );
    expect(problem({ ...good, items: [1, 2, 3, 4] })).toBe('items: expected at most 3 items, not 4');
    expect(problem({ ...good, keys: { x: 1 } })).toBe('keys.x: expected a string, not a number');
  });

  it('lets optional properties be missing or undefined, and nothing else', () => {
    expect(problem({ ...good, items: [{ ...good.items[0], extra: undefined }] })).toBe('ok');
    expect(problem({ ...good, anything: [1, { two: 2 }] })).toBe('ok');
    expect(problem({ ...good, items: [{ ...good.items[0], extra: null }] })).toBe('items.0.extra: expected an object, not null');
  });

  it('types what it checks', () => {
    expectTypeOf<Infer<typeof file>>().toEqualTypeOf<{
      schemaVersion: 1;
      enabled: boolean;
      items: Array<{ id: string; kind: 'a' | 'b'; owner: string | null; extra?: { note: string } }>;
      keys: Record<string, string>;
      anything?: unknown;
    }>();
  });
});
