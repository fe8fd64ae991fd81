import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { CloudTrailRecordSchema } from './cloudtrail-record.js';
import { KmsLifecycleEventSchema } from './kms-lifecycle-event.js';

export const API_CALL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

/**
 * EventBridge "AWS API Call via CloudTrail" (and the service-event variant): `detail` is one
 * CloudTrail record.
 */
export const CloudTrailApiCallEventSchema = EventBridgeSchema.extend({
  'detail-type': z.enum([API_CALL_DETAIL_TYPE, 'AWS Service Event via CloudTrail']),
  detail: CloudTrailRecordSchema,
});

export type CloudTrailApiCallEvent = z.infer<typeof CloudTrailApiCallEventSchema>;

/** Any EventBridge event keytrail consumes. */
export const KmsEventBridgeEventSchema = z.union([CloudTrailApiCallEventSchema, KmsLifecycleEventSchema]);
export type KmsEventBridgeEvent = z.infer<typeof KmsEventBridgeEventSchema>;

/** Does a parsed JSON value look like an EventBridge envelope (rather than a bare CloudTrail record)? */
export function looksLikeEventBridge(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'detail-type' in value && 'detail' in value;
}
