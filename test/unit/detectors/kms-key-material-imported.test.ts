import { describe, expect, it } from 'vitest';
import { kmsKeyMaterialImported as detector } from '../../../src/detectors/kms-key-material-imported.js';
import { corpusEvent, detect, fixtureEvent } from './helpers.js';

describe('Detector: KMS.KeyMaterialImported', () => {
  it('fires on a successful ImportKeyMaterial and reads the expiry date', () => {
    const draft = detect(detector, corpusEvent(36));
    expect(draft?.context).toMatchObject({ expirationModel: 'KEY_MATERIAL_EXPIRES', validTo: '2021-01-01T20:00:00.000Z' });
    expect(draft?.summary).toContain('It expires on 2021-01-01T20:00:00.000Z');
  });

  it('says when the material does not expire', () => {
    expect(detect(detector, fixtureEvent('import-key-material-does-not-expire'))?.summary).toContain('It does not expire.');
  });

  it('ignores a failed import', () => {
    expect(detect(detector, corpusEvent(36, { errorCode: 'ExpiredImportTokenException', errorMessage: 'expired' }))).toBeNull();
  });

  it('ignores GetParametersForImport', () => {
    expect(detect(detector, corpusEvent(35))).toBeNull();
  });

  it('works without resources', () => {
    const draft = detect(detector, corpusEvent(36, { resources: null, responseElements: null }));
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(draft?.eventIds[0]);
  });
});
