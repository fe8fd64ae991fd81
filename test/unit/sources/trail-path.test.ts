import { describe, expect, it } from 'vitest';
import { classifySkip, parseTrailPath } from '../../../src/sources/trail-path.js';

describe('Source: parseTrailPath', () => {
  it('parses an account trail key', () => {
    expect(parseTrailPath('AWSLogs/111122223333/CloudTrail/us-west-2/2024/01/31/111122223333_CloudTrail_us-west-2_20240131T2355Z_a1b2c3.json.gz')).toEqual({
      organizationId: null,
      accountId: '111122223333',
      region: 'us-west-2',
      date: '2024-01-31',
    });
  });

  it('parses an organization trail key under a bucket prefix', () => {
    expect(parseTrailPath('s3://trail-bucket/prefix/AWSLogs/o-aa111bb222/444455556666/CloudTrail/eu-central-1/2023/12/01/x.json.gz')).toEqual({
      organizationId: 'o-aa111bb222',
      accountId: '444455556666',
      region: 'eu-central-1',
      date: '2023-12-01',
    });
  });

  it('parses a local path, including a Windows one, and GovCloud regions', () => {
    expect(parseTrailPath('/data/logs/AWSLogs/111122223333/CloudTrail/us-gov-west-1/2024/02/29/f.json')?.region).toBe('us-gov-west-1');
    expect(parseTrailPath('C:\\logs\\AWSLogs\\111122223333\\CloudTrail\\ap-southeast-4\\2024\\03\\01\\f.json.gz')?.date).toBe('2024-03-01');
  });

  it('returns null for paths that do not follow the layout', () => {
    const bad = [
      'AWSLogs/11112222333/CloudTrail/us-west-2/2024/01/31/f.json.gz', // 11-digit account
      'AWSLogs/1111222233334/CloudTrail/us-west-2/2024/01/31/f.json.gz', // 13-digit account
      'AWSLogs/111122223333/CloudTrail/us-west-2/2023/02/29/f.json.gz', // no such day
      'AWSLogs/111122223333/CloudTrail/us-west-2/2024/13/01/f.json.gz',
      'AWSLogs/111122223333/CloudTrail/us-west-2/2024/1/31/f.json.gz',
      'AWSLogs/111122223333/CloudTrail/US-WEST-2/2024/01/31/f.json.gz',
      'AWSLogs/111122223333/CloudTrail/us-west-2/2024/01/31/', // a directory, no file
      'AWSLogs/111122223333/CloudTrail/us-west-2/2024/01/31/extra/f.json.gz',
      'AWSLogs/111122223333/CloudTrail-Digest/us-west-2/2024/01/31/f.json.gz',
      'AWSLogs/o-short/111122223333/CloudTrail/us-west-2/2024/01/31/f.json.gz',
      'logs/111122223333/CloudTrail/us-west-2/2024/01/31/f.json.gz',
      'trail.json',
    ];
    for (const path of bad) expect(parseTrailPath(path), path).toBeNull();
  });

  it('finds the layout after an earlier AWSLogs segment that does not match', () => {
    expect(parseTrailPath('AWSLogs/backup/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/06/f.json.gz')?.accountId).toBe('111122223333');
  });
});

describe('Source: classifySkip', () => {
  it('recognises digest and Insights files by directory or by name', () => {
    expect(classifySkip('AWSLogs/111122223333/CloudTrail-Digest/us-west-2/2024/01/31/f.json.gz')).toBe('digest');
    expect(classifySkip('downloads/111122223333_CloudTrail-Digest_us-west-2_trail_us-west-2_20240131T235959Z.json.gz')).toBe('digest');
    expect(classifySkip('AWSLogs/o-aa111bb222/111122223333/CloudTrail-Insight/us-west-2/2024/01/31/f.json.gz')).toBe('insight');
    expect(classifySkip('x/111122223333_CloudTrail-Insight_us-west-2_20240131T2355Z_abc.json.gz')).toBe('insight');
  });

  it('leaves log files alone, including ones in a directory merely named like a digest', () => {
    expect(classifySkip('AWSLogs/111122223333/CloudTrail/us-west-2/2024/01/31/111122223333_CloudTrail_us-west-2_20240131T2355Z_abc.json.gz')).toBeNull();
    expect(classifySkip('/home/me/CloudTrail-Digests-old/f.json')).toBeNull();
  });
});
