import { describe, expect, it } from 'vitest';
import { createDetectionContext } from '../../../src/detectors/lib/context.js';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import { corpusEvent, KEY_ARN, KEY_ID, lifecycleKmsEvent } from './helpers.js';

const config = KeytrailConfigSchema.parse({
  trusted_accounts: ['222233334444'],
  keys: [
    { key_arn: KEY_ARN, description: 'by ARN' },
    { key_id: '0987dcba-09fe-87dc-65ba-ab0987654321', description: 'by id' },
    { alias: 'alias/project-key', description: 'by alias' },
    { alias: 'alias/ExampleAlias', description: 'by alias, resolved from CreateAlias' },
  ],
});

describe('createDetectionContext', () => {
  it('matches a declared key by ARN, including events that name it only by bare key id', () => {
    const ctx = createDetectionContext(config);
    expect(ctx.declaredKey(corpusEvent(47))?.description).toBe('by ARN');
    expect(ctx.declaredKey(lifecycleKmsEvent(3))?.description).toBe('by ARN');
    expect(ctx.declaredKey({ keyArn: null, keyId: KEY_ID, aliasName: null })?.description).toBe('by ARN');
  });

  it('does not match a multi-Region replica ARN in another Region by its shared key id', () => {
    const ctx = createDetectionContext(config);
    expect(ctx.declaredKey({ keyArn: KEY_ARN.replace('us-west-2', 'eu-west-1'), keyId: KEY_ID, aliasName: null })).toBeNull();
  });

  it('matches by key id and by alias', () => {
    const ctx = createDetectionContext(config);
    expect(ctx.declaredKey(corpusEvent(49))?.description).toBe('by id');
    expect(ctx.declaredKey({ keyArn: null, keyId: null, aliasName: 'alias/project-key' })?.description).toBe('by alias');
  });

  it('matches a declared alias to the key it points to, when the engine resolved it', () => {
    const other = 'arn:aws:kms:us-west-2:111122223333:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab';
    const event = { keyArn: other, keyId: 'aaaaaaaa-12ab-34cd-56ef-1234567890ab', aliasName: null };
    expect(createDetectionContext(config).declaredKey(event)).toBeNull();
    const ctx = createDetectionContext(config, { aliasTargets: new Map([['alias/ExampleAlias', other]]) });
    expect(ctx.declaredKey(event)?.description).toBe('by alias, resolved from CreateAlias');
  });

  it('trusts configured accounts and the key owner', () => {
    const ctx = createDetectionContext(config);
    expect(ctx.isTrustedAccount('222233334444')).toBe(true);
    expect(ctx.isTrustedAccount('111122223333')).toBe(false);
    expect(ctx.isTrustedAccount('111122223333', '111122223333')).toBe(true);
    expect(ctx.isTrustedAccount('999988887777', '111122223333')).toBe(false);
  });
});
