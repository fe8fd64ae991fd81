import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function fixturePath(relative: string): string {
  return join(fixtures, relative);
}

function readJsonl(relative: string): Record<string, unknown>[] {
  return readFileSync(fixturePath(relative), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The 74 CloudTrail records printed in the AWS KMS Developer Guide, in order. */
export function guideRecords(): Record<string, unknown>[] {
  return readJsonl('corpus/kms-guide-examples.jsonl');
}

/** The guide's three EventBridge lifecycle events. */
export function lifecycleEvents(): Record<string, unknown>[] {
  return readJsonl('corpus/kms-guide-lifecycle-events.jsonl');
}

/** A CloudTrail S3 delivery file as CloudTrail writes it: one line, no trailing newline. */
export function deliveryText(records: readonly unknown[]): string {
  return `{"Records":[${records.map((r) => JSON.stringify(r)).join(',')}]}`;
}

/**
 * Guide records varied so their strings hold everything a naive splitter trips on: brackets and
 * braces, escaped quotes and backslashes (including a string that ends in one), control-character
 * escapes, and characters of 2, 3 and 4 UTF-8 bytes (the last a surrogate pair in JavaScript).
 */
export function trickyRecords(): Record<string, unknown>[] {
  const records = guideRecords();
  const tricky = [
    '{"Records":[',
    ']}',
    'say \\"hi\\"',
    'C:\\',
    '\\\\\\',
    '"',
    '\\"',
    'line\nbreak\ttab\u0000nul',
    'café – 日本語 – 😀🔑',
    '}],{"eventVersion":"1.08"',
  ];
  return tricky.map((value, i) => {
    const record = structuredClone(records[i % records.length] ?? {});
    record.userAgent = value;
    record.requestParameters = { keyId: `alias/${value}`, encryptionContext: { [value]: value, nested: [value, { deeper: value }] } };
    return record;
  });
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'keytrail-sources-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
