import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../src/detectors/index.js';
import type { Detector } from '../../../src/detectors/types.js';

const DIR = fileURLToPath(new URL('../../../src/detectors/', import.meta.url));
const detectorFiles = readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'types.ts');

/** `KMS.KeyDeletionScheduled` → `kms-key-deletion-scheduled`; `CloudTrail.KmsEventsExcluded` → `cloudtrail-kms-events-excluded`. */
function fileOf(id: string): string {
  const [namespace = '', name = ''] = id.split('.');
  return `${namespace.toLowerCase()}-${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;
}

/** `KMS.KeyDeletionScheduled` → `kmsKeyDeletionScheduled`. */
function exportOf(id: string): string {
  const [namespace = '', name = ''] = id.split('.');
  return `${namespace.toLowerCase()}${name}`;
}

function isDetector(value: unknown): value is Detector {
  return typeof value === 'object' && value !== null && 'id' in value && 'kind' in value;
}

describe('Detector naming', () => {
  it('derives file and export names from the id as STYLE.md says', () => {
    expect(fileOf('KMS.KeyDeletionScheduled')).toBe('kms-key-deletion-scheduled.ts');
    expect(fileOf('CloudTrail.KmsEventsExcluded')).toBe('cloudtrail-kms-events-excluded.ts');
    expect(exportOf('CloudTrail.KmsEventsExcluded')).toBe('cloudtrailKmsEventsExcluded');
  });

  it.each(detectorFiles)('%s exports exactly one detector, named after its id, whose id names the file', async (file) => {
    const module = (await import(`${DIR}${file}`)) as Record<string, unknown>;
    const detectors = Object.entries(module).filter(([, value]) => isDetector(value));
    expect(detectors).toHaveLength(1);
    const [exportName, detector] = detectors[0] as [string, Detector];
    expect(fileOf(detector.id)).toBe(file);
    expect(exportOf(detector.id)).toBe(exportName);
  });

  it('lists every detector file in index.ts exactly once, and nothing else', async () => {
    const fromFiles = await Promise.all(
      detectorFiles.map(async (file) => Object.values((await import(`${DIR}${file}`)) as Record<string, unknown>).find(isDetector)),
    );
    expect(new Set(DETECTORS)).toEqual(new Set(fromFiles));
    expect(new Set(DETECTORS.map((d) => d.id)).size).toBe(DETECTORS.length);
  });

  it('gives every detector a title, description, runbook and AWS documentation references', () => {
    for (const d of DETECTORS) {
      expect(d.title, d.id).not.toBe('');
      expect(d.description.length, d.id).toBeGreaterThan(20);
      expect(d.runbook.length, d.id).toBeGreaterThan(0);
      expect(d.references.length, d.id).toBeGreaterThan(0);
      for (const ref of d.references) expect(ref, d.id).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    }
  });
});
