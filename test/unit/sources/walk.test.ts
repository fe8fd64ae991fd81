import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import type { DiscoveredFile } from '../../../src/sources/types.js';
import { discoverFiles } from '../../../src/sources/walk.js';
import { collect, withTempDir } from './helpers.js';

async function touch(path: string, content = '{}'): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
}

function relative(dir: string, files: DiscoveredFile[]): string[] {
  return files.map((f) => f.path.slice(dir.length + 1));
}

describe('Source: discoverFiles', () => {
  it('walks directories recursively in name order and reads only JSON, NDJSON and their gzipped forms', async () => {
    await withTempDir(async (dir) => {
      for (const name of ['b/z.json', 'b/a.ndjson.gz', 'a.jsonl', 'c.json.gz', 'notes.txt', 'b/deep/x.JSON', 'b/deep/y.json.zip', 'c.ndjson', 'd.jsonl.gz']) {
        await touch(join(dir, name));
      }
      const files = await collect(discoverFiles([dir]));
      expect(relative(dir, files)).toEqual(['a.jsonl', 'b/a.ndjson.gz', 'b/deep/x.JSON', 'b/z.json', 'c.json.gz', 'c.ndjson', 'd.jsonl.gz']);
      expect(files[0]).toMatchObject({ skip: null, trailPath: null, sizeBytes: 2 });
    });
  });

  it('flags digest and Insights files as skipped and parses organization trail paths', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'bucket/AWSLogs/o-aa111bb222/111122223333');
      const log = join(root, 'CloudTrail/us-west-2/2024/01/31/111122223333_CloudTrail_us-west-2_20240131T2355Z_abc.json.gz');
      const digest = join(root, 'CloudTrail-Digest/us-west-2/2024/01/31/111122223333_CloudTrail-Digest_us-west-2_t_us-west-2_20240131T235959Z.json.gz');
      const insight = join(root, 'CloudTrail-Insight/us-west-2/2024/01/31/111122223333_CloudTrail-Insight_us-west-2_20240131T2355Z_abc.json.gz');
      for (const path of [log, digest, insight]) await touch(path, 'x'.repeat(10));

      const files = await collect(discoverFiles([join(dir, 'bucket')]));
      expect(files.map((f) => [f.path, f.skip])).toEqual([
        [log, null],
        [digest, 'digest'],
        [insight, 'insight'],
      ]);
      expect(files[0]?.trailPath).toEqual({ organizationId: 'o-aa111bb222', accountId: '111122223333', region: 'us-west-2', date: '2024-01-31' });
      expect(files[0]?.sizeBytes).toBe(10);
    });
  });

  it('reads a file named explicitly whatever its extension, in the order given', async () => {
    await withTempDir(async (dir) => {
      await touch(join(dir, 'z.log'));
      await touch(join(dir, 'a.json'));
      const files = await collect(discoverFiles([join(dir, 'z.log'), join(dir, 'a.json')]));
      expect(relative(dir, files)).toEqual(['z.log', 'a.json']);
    });
  });

  it('follows symbolic links without looping and yields a file reachable twice once', async () => {
    await withTempDir(async (dir) => {
      await touch(join(dir, 'logs/a.json'));
      await touch(join(dir, 'logs/sub/b.json'));
      await symlink(join(dir, 'logs'), join(dir, 'logs/sub/loop'));
      await symlink(join(dir, 'logs/a.json'), join(dir, 'logs/sub/a-link.json'));
      const files = await collect(discoverFiles([join(dir, 'logs'), join(dir, 'logs/a.json')]));
      expect(relative(dir, files)).toEqual(['logs/a.json', 'logs/sub/b.json']);
    });
  });

  it('throws InputError naming a missing path before yielding anything', async () => {
    await withTempDir(async (dir) => {
      await touch(join(dir, 'a.json'));
      const missing = join(dir, 'nope', 'trail.json.gz');
      const seen: DiscoveredFile[] = [];
      const walking = (async () => {
        for await (const file of discoverFiles([join(dir, 'a.json'), missing])) seen.push(file);
      })();
      await expect(walking).rejects.toThrow(InputError);
      await expect(walking).rejects.toThrow(`cannot read ${missing}: no such file or directory`);
      expect(seen).toEqual([]);
    });
  });

  it('throws InputError naming a dangling symbolic link found in a walk', async () => {
    await withTempDir(async (dir) => {
      await symlink(join(dir, 'gone.json'), join(dir, 'dangling.json'));
      await expect(collect(discoverFiles([dir]))).rejects.toThrow(`cannot read ${join(dir, 'dangling.json')}`);
    });
  });
});
