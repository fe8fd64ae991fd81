import { describe, expect, it } from 'vitest';
import { kmsImportedKeyMaterialDeleted as detector } from '../../../src/detectors/kms-imported-key-material-deleted.js';
import { contextFor, corpusEvent, detect, KEY_ID, usageFixture, VENDOR_CONFIG } from './helpers.js';

const facts = { usageSummary: usageFixture() };

describe('Detector: KMS.ImportedKeyMaterialDeleted', () => {
  it('fires on a successful DeleteImportedKeyMaterial', () => {
    const draft = detect(detector, corpusEvent(17), contextFor(), facts);
    expect(draft?.summary).toContain('arn:aws:iam::111122223333:user/Alice deleted the imported key material');
    expect(draft?.context['usageSummary']).toEqual(facts.usageSummary);
  });

  it("names the vendor whose access breaks", () => {
    expect(detect(detector, corpusEvent(17), contextFor(VENDOR_CONFIG), facts)?.summary).toContain("vendor Acme Analytics's access");
  });

  it('ignores a failed call: nothing was deleted', () => {
    expect(detect(detector, corpusEvent(17, { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }), contextFor(), facts)).toBeNull();
  });

  it('ignores the expiry service event (KMS.ImportedKeyMaterialExpired)', () => {
    expect(detect(detector, corpusEvent(16), contextFor(), facts)).toBeNull();
  });

  it('works without resources', () => {
    const draft = detect(detector, corpusEvent(17, { resources: null }), contextFor(), facts);
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(KEY_ID);
  });
});
