import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig } from '../../../src/config/loader.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keytrail-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  const error = await loadConfig(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const BAD_VENDOR_YAML = `
keys:
  - key_arn: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  - key_id: 0987dcba-09fe-87dc-65ba-ab0987654321
    vendors:
      - name: Acme
        accounts: ["44445555666"]
`;

describe('loadConfig', () => {
  it('uses the defaults when there is no file', async () => {
    expect(findConfigFile({ cwd: dir, env: {} })).toBeNull();
    expect(await loadConfig({ cwd: dir, env: {} })).toEqual(DEFAULT_CONFIG);
  });

  it('finds keytrail.config.yaml in the working directory and applies defaults to what it leaves out', async () => {
    write('keytrail.config.yaml', 'trusted_accounts: ["222233334444"]\ndetection:\n  lookback_days: 30\n');
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.trusted_accounts).toEqual(['222233334444']);
    expect(config.detection.lookback_days).toBe(30);
    expect(config.detection.query_window_days).toBe(DEFAULT_CONFIG.detection.query_window_days);
  });

  it('refuses to choose between two default files', async () => {
    write('keytrail.config.yml', 'trusted_accounts: ["222233334444"]\n');
    write('keytrail.config.json', '{"trusted_accounts": ["333344445555"]}');
    expect((await loadError({ cwd: dir, env: {} })).message).toBe(
      'keytrail.config.json and keytrail.config.yml are both present: keep one, or name one with --config',
    );
  });

  it('reads KEYTRAIL_CONFIG, and --config wins over it', async () => {
    const fromEnv = write('env.yaml', 'trusted_accounts: ["222233334444"]\n');
    const fromFlag = write('flag.json', '{"trusted_accounts": ["333344445555"]}');
    expect((await loadConfig({ cwd: dir, env: { KEYTRAIL_CONFIG: fromEnv } })).trusted_accounts).toEqual(['222233334444']);
    expect((await loadConfig({ path: fromFlag, cwd: dir, env: { KEYTRAIL_CONFIG: fromEnv } })).trusted_accounts).toEqual(['333344445555']);
  });

  it('fails, naming the file, when a named file does not exist', async () => {
    const missing = join(dir, 'nope.yaml');
    expect((await loadError({ path: missing, env: {} })).message).toBe(`${missing}: no such configuration file (named by --config)`);
    expect((await loadError({ cwd: dir, env: { KEYTRAIL_CONFIG: missing } })).message).toContain('(named by KEYTRAIL_CONFIG)');
  });

  it('names the file and the full path of a bad field', async () => {
    write('keytrail.config.yaml', BAD_VENDOR_YAML);
    expect((await loadError({ cwd: dir, env: {} })).message).toBe(
      'keytrail.config.yaml: keys[1].vendors[0].accounts[0]: must be a 12-digit AWS account id',
    );
  });

  it('lists every bad field, one per line, including unknown fields and a key without identifier', async () => {
    const path = write('k.json', JSON.stringify({ trusted_accounts: ['1'], keys: [{ description: 'x' }], sevrity_overrides: {} }));
    const lines = (await loadError({ path, env: {} })).message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `${path}: sevrity_overrides: unknown field`,
        `${path}: trusted_accounts[0]: must be a 12-digit AWS account id`,
        `${path}: keys[0]: a key needs key_arn, key_id or alias`,
      ]),
    );
  });

  it('reports YAML and JSON syntax errors with the file and position', async () => {
    write('keytrail.config.yaml', 'keys:\n  - key_id: [unclosed\n');
    expect((await loadError({ cwd: dir, env: {} })).message).toMatch(/^keytrail\.config\.yaml: not valid YAML: line \d+, column \d+: /);
    const json = write('bad.json', '{"keys": [}');
    expect((await loadError({ path: json, env: {} })).message).toMatch(/bad\.json: not valid JSON: /);
  });

  it('treats an empty or comment-only file as the defaults', async () => {
    write('keytrail.config.yaml', '# nothing yet\n');
    expect(await loadConfig({ cwd: dir, env: {} })).toEqual(DEFAULT_CONFIG);
  });

  it('takes alert ARNs from the environment over the file, validated like the file', async () => {
    write('keytrail.config.json', '{"alerts": {"sns_topic_arn": "arn:aws:sns:us-east-1:111122223333:file", "min_severity": "high"}}');
    const config = await loadConfig({ cwd: dir, env: { KEYTRAIL_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:env', KEYTRAIL_EVENT_BUS: 'audit' } });
    expect(config.alerts).toMatchObject({ sns_topic_arn: 'arn:aws:sns:us-east-1:111122223333:env', event_bus: 'audit', min_severity: 'high' });
    expect((await loadError({ cwd: dir, env: { KEYTRAIL_SNS_TOPIC_ARN: 'not-an-arn' } })).message).toBe(
      'keytrail.config.json: alerts.sns_topic_arn: must be an SNS topic ARN',
    );
  });
});
