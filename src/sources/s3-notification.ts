import { z } from 'zod';

/** One S3 object a notification announces. */
export interface S3ObjectRef {
  bucket: string;
  /** URL-decoded key. */
  key: string;
  size: number | null;
}

/**
 * What an SQS message of the trail-files queue says: the objects to read (possibly none, e.g. only
 * removals), or S3's `s3:TestEvent` sent when the notification is configured (nothing to read).
 */
export type TrailNotification =
  | { kind: 'test-event' }
  | { kind: 'objects'; via: 's3' | 'sns+s3' | 'cloudtrail' | 'sns+cloudtrail'; objects: S3ObjectRef[]; ignoredEvents: string[] };

/** An S3 event notification record; only the fields keytrail reads are checked. */
const S3EventRecordSchema = z.looseObject({
  eventSource: z.literal('aws:s3', { error: 'eventSource must be "aws:s3"' }),
  eventName: z.string().min(1),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1) }),
    object: z.looseObject({ key: z.string().min(1), size: z.number().nonnegative().optional() }),
  }),
});

export const S3EventNotificationSchema = z.looseObject({ Records: z.array(S3EventRecordSchema).min(1, 'Records is empty') });

/** Sent once by S3 when a notification configuration is saved. */
export const S3TestEventSchema = z.looseObject({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
});

/** CloudTrail's own SNS notification of a delivered log file (trail `SnsTopicName`). */
export const CloudTrailDeliveryNotificationSchema = z.looseObject({
  s3Bucket: z.string().min(1),
  s3ObjectKey: z.array(z.string().min(1)).min(1, 's3ObjectKey is empty'),
});

/** The SNS envelope an SQS subscriber receives when raw message delivery is off. */
const SnsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification'),
  TopicArn: z.string().min(1),
  Message: z.string(),
});

const SHAPES =
  'an S3 event notification ({"Records":[{"eventSource":"aws:s3",…}]}), an s3:TestEvent, a CloudTrail log delivery notification ' +
  '({"s3Bucket":…,"s3ObjectKey":[…]}), or an SNS notification carrying one of them';

/**
 * The body of one SQS message of the trail-files queue, already parsed from JSON: S3 → SQS, S3 → SNS
 * → SQS (envelope, raw delivery off), CloudTrail's SNS notification → SQS, or the `s3:TestEvent`.
 * Parses to a {@link TrailNotification}; issues name the field at fault.
 */
export const TrailNotificationSchema = z.unknown().transform((value, ctx): TrailNotification => {
  const parsed = parseDirect(value, false);
  if (parsed.ok) return parsed.value;
  if (isObject(value) && value['Type'] === 'Notification') {
    const envelope = SnsEnvelopeSchema.safeParse(value);
    if (!envelope.success) return fail(ctx, envelope.error.issues, []);
    let inner: unknown;
    try {
      inner = JSON.parse(envelope.data.Message);
    } catch {
      ctx.addIssue({ code: 'custom', path: ['Message'], message: 'SNS Message is not JSON' });
      return z.NEVER;
    }
    const wrapped = parseDirect(inner, true);
    if (wrapped.ok) return wrapped.value;
    return fail(ctx, wrapped.issues, ['Message']);
  }
  return fail(ctx, parsed.issues, []);
});

interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

type DirectResult = { ok: true; value: TrailNotification } | { ok: false; issues: readonly Issue[] };

function parseDirect(value: unknown, viaSns: boolean): DirectResult {
  if (!isObject(value)) return { ok: false, issues: [custom(`not ${SHAPES}`)] };
  if (value['Event'] === 's3:TestEvent') {
    const test = S3TestEventSchema.safeParse(value);
    return test.success ? { ok: true, value: { kind: 'test-event' } } : { ok: false, issues: test.error.issues };
  }
  if ('Records' in value) {
    const s3 = S3EventNotificationSchema.safeParse(value);
    if (!s3.success) return { ok: false, issues: s3.error.issues };
    const objects: S3ObjectRef[] = [];
    const ignoredEvents: string[] = [];
    for (const record of s3.data.Records) {
      // Removals, restores and the like carry nothing to read.
      if (!record.eventName.startsWith('ObjectCreated:')) {
        ignoredEvents.push(record.eventName);
        continue;
      }
      objects.push({ bucket: record.s3.bucket.name, key: decodeS3Key(record.s3.object.key), size: record.s3.object.size ?? null });
    }
    return { ok: true, value: { kind: 'objects', via: viaSns ? 'sns+s3' : 's3', objects, ignoredEvents } };
  }
  if ('s3Bucket' in value) {
    const trail = CloudTrailDeliveryNotificationSchema.safeParse(value);
    if (!trail.success) return { ok: false, issues: trail.error.issues };
    return {
      ok: true,
      value: {
        kind: 'objects',
        via: viaSns ? 'sns+cloudtrail' : 'cloudtrail',
        // CloudTrail's notification carries keys as stored, not URL-encoded.
        objects: trail.data.s3ObjectKey.map((key) => ({ bucket: trail.data.s3Bucket, key, size: null })),
        ignoredEvents: [],
      },
    };
  }
  return { ok: false, issues: [custom(`not ${SHAPES}`)] };
}

/** S3 event notifications URL-encode keys, with `+` for a space. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    // A `%` not followed by two hex digits: the key was not encoded after all.
    return key;
  }
}

function fail(ctx: z.core.$RefinementCtx, issues: readonly Issue[], prefix: readonly PropertyKey[]): typeof z.NEVER {
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: [...prefix, ...issue.path], message: issue.message });
  return z.NEVER;
}

function custom(message: string): Issue {
  return { path: [], message };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
