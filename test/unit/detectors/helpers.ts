import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import { createDetectionContext } from '../../../src/detectors/lib/context.js';
import type { DetectionContext, EventDetector, FindingDraft, HistoryFacts, UsageSummary } from '../../../src/detectors/types.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { corpusRecord, lifecycleEvent } from '../../support/corpus.js';

export type JsonRecord = Record<string, unknown>;
/** Top-level fields to replace, or a function that edits the (cloned) record in place. */
export type Patch = JsonRecord | ((record: JsonRecord) => void);

export const DETECTOR_FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/detectors/', import.meta.url));
export const INGESTED_AT = '2025-01-01T00:00:00.000Z';

/** The key most corpus records are about. */
export const KEY_ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** Normalize one record or EventBridge event; fails the test when it is not an event. */
export function toEvent(value: unknown, uri = 'test-fixture'): KmsEvent {
  const result = normalizeValue(value, { uri, position: 0 }, INGESTED_AT);
  if (result.kind !== 'event') throw new Error(`fixture did not normalize to an event: ${JSON.stringify(result)}`);
  return result.event;
}

function patched(record: JsonRecord, patch?: Patch): JsonRecord {
  const copy = structuredClone(record);
  if (typeof patch === 'function') {
    patch(copy);
    return copy;
  }
  return { ...copy, ...patch };
}

/** Corpus line N (1-based, as in kms-guide-examples.index.tsv), varied by a patch, as a raw record. */
export function corpusRecordWith(line: number, patch?: Patch): JsonRecord {
  return patched(corpusRecord(line), patch);
}

/** Corpus line N, varied by a patch, normalized. */
export function corpusEvent(line: number, patch?: Patch): KmsEvent {
  return toEvent(corpusRecordWith(line, patch), `corpus:${line}`);
}

/** Lifecycle line N (1 rotation, 2 imported material expiration, 3 CMK deletion), varied, as raw. */
export function lifecycleRecordWith(line: number, patch?: Patch): JsonRecord {
  return patched(lifecycleEvent(line), patch);
}

export function lifecycleKmsEvent(line: number, patch?: Patch): KmsEvent {
  return toEvent(lifecycleRecordWith(line, patch), `lifecycle:${line}`);
}

/** A detector fixture (`test/fixtures/detectors/<name>.json`), varied, as raw. */
export function fixtureRecordWith(name: string, patch?: Patch): JsonRecord {
  const value: unknown = JSON.parse(readFileSync(`${DETECTOR_FIXTURES_DIR}${name}.json`, 'utf8'));
  return patched(value as JsonRecord, patch);
}

export function fixtureEvent(name: string, patch?: Patch): KmsEvent {
  return toEvent(fixtureRecordWith(name, patch), `fixture:${name}`);
}

/** Names of every detector fixture file (without `.json`). */
export function detectorFixtureNames(): string[] {
  return readdirSync(DETECTOR_FIXTURES_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'expectations.json')
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A detection context from a config object (validated with the real schema). */
export function contextFor(config: unknown = {}): DetectionContext {
  return createDetectionContext(KeytrailConfigSchema.parse(config));
}

/** Run one detector the way the engine does: match, then describe with the given facts. */
export function detect(detector: EventDetector, event: KmsEvent, ctx = contextFor(), facts: HistoryFacts = {}): FindingDraft | null {
  return detector.match(event, ctx) ? detector.describe(event, ctx, facts) : null;
}

/** A usage summary as the engine would pass it, with overrides. */
export function usageFixture(overrides: Partial<UsageSummary> = {}): UsageSummary {
  return {
    keyArn: KEY_ARN,
    windowDays: 90,
    from: '2020-12-23T18:58:30.000Z',
    to: '2021-03-23T18:58:30.000Z',
    totalCalls: 0,
    cryptographicCalls: 0,
    byOperation: {},
    principals: [],
    accounts: [],
    services: [],
    firstUse: null,
    lastUse: null,
    lastCryptographicUse: null,
    errors: 0,
    evidenceFrom: '2020-01-01T00:00:00.000Z',
    evidenceTo: '2021-03-23T18:58:30.000Z',
    basis: 'test',
    ...overrides,
  };
}

/** A config declaring the corpus key as shared with a vendor. */
export const VENDOR_CONFIG = {
  keys: [{ key_arn: KEY_ARN, description: 'tenant data', vendors: [{ name: 'Acme Analytics', accounts: ['444455556666'] }] }],
};

/**
 * The guide's EC2 CreateVolume record (corpus line 60) naming the corpus key in `resources`, so the
 * normalizer keeps it: another service's record about a KMS key. For "only KMS reports this" exclusions.
 */
export function otherServiceEvent(patch: JsonRecord = {}): KmsEvent {
  return corpusEvent(60, (r) => {
    r['resources'] = [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY_ARN }];
    Object.assign(r, patch);
  });
}
