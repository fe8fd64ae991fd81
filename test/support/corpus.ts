import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));

function readLines(file: string): string[] {
  return readFileSync(`${dir}${file}`, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** The AWS KMS guide's example records, one per line, as AWS printed them (typos included). */
export const corpusLines: readonly string[] = readLines('kms-guide-examples.jsonl');
/** The guide's three EventBridge lifecycle events. */
export const lifecycleLines: readonly string[] = readLines('kms-guide-lifecycle-events.jsonl');

/** Corpus line N (1-based, as in kms-guide-examples.index.tsv), parsed afresh. */
export function corpusRecord(line: number): Record<string, unknown> {
  const text = corpusLines[line - 1];
  if (text === undefined) throw new Error(`corpus has no line ${line}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export function lifecycleEvent(line: number): Record<string, unknown> {
  const text = lifecycleLines[line - 1];
  if (text === undefined) throw new Error(`lifecycle corpus has no line ${line}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Wrap a CloudTrail record the way EventBridge delivers it ("AWS API Call via CloudTrail"). */
export function asEventBridge(record: Record<string, unknown>, id = '2f1c7a3e-0000-4000-8000-000000000001'): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': record['eventType'] === 'AwsServiceEvent' ? 'AWS Service Event via CloudTrail' : 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: record['recipientAccountId'],
    time: record['eventTime'],
    region: record['awsRegion'],
    resources: [],
    detail: record,
  };
}
