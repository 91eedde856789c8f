import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * The figures each fault test measures. A test file records its section as it goes (so a failure
 * still leaves what was measured up to it); the suite's global teardown prints every section as
 * one table and writes it to docs/faults-latest.txt.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    faultFiguresDir: string;
  }
}

export interface FigureSection {
  /** Sorts the sections in the table (the order). */
  order: number;
  title: string;
  rows: Array<[label: string, value: string]>;
  notes: string[];
  /** Set once every check of the section passed. */
  passed: boolean;
  seconds: number;
}

export class Figures {
  private readonly section: FigureSection;
  private readonly started = Date.now();

  constructor(order: number, title: string) {
    this.section = { order, title, rows: [], notes: [], passed: false, seconds: 0 };
  }

  /** Sets (or replaces) one row and saves the section at once. */
  set(label: string, value: string | number): void {
    const text = typeof value === 'number' ? String(value) : value;
    const row = this.section.rows.find((r) => r[0] === label);
    if (row) row[1] = text;
    else this.section.rows.push([label, text]);
    this.save();
  }

  note(text: string): void {
    this.section.notes.push(text);
    this.save();
  }

  passed(): void {
    this.section.passed = true;
    this.save();
  }

  private save(): void {
    this.section.seconds = Math.round((Date.now() - this.started) / 1000);
    const dir = inject('faultFiguresDir');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.section.order}.json`), JSON.stringify(this.section));
  }
}

export function readSections(dir: string): FigureSection[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as FigureSection).sort((a, b) => a.order - b.order);
}

/** Plain text, fixed width: readable in a CI log and in the docs file alike. */
export function renderFigures(sections: FigureSection[], header: string[]): string {
  const width = Math.max(24, ...sections.flatMap((s) => s.rows.map((r) => r[0].length)));
  const lines = [...header, ''];
  for (const s of sections) {
    lines.push(`${s.title} — ${s.passed ? 'passed' : 'FAILED or incomplete'} (${s.seconds} s)`);
    for (const [label, value] of s.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
    for (const n of s.notes) lines.push(`  note: ${n}`);
    lines.push('');
  }
  if (sections.length === 0) lines.push('(no section recorded figures)', '');
  return lines.join('\n');
}
