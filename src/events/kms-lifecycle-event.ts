import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';

/** The three KMS lifecycle events KMS itself sends to EventBridge. */
export const KMS_LIFECYCLE_DETAIL_TYPES = [
  'KMS CMK Rotation',
  'KMS CMK Deletion',
  'KMS Imported Key Material Expiration',
] as const;

export type KmsLifecycleDetailType = (typeof KMS_LIFECYCLE_DETAIL_TYPES)[number];

export const KmsLifecycleEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.kms'),
  'detail-type': z.enum(KMS_LIFECYCLE_DETAIL_TYPES),
  detail: z.looseObject({ 'key-id': z.string().min(1) }),
});

export type KmsLifecycleEvent = z.infer<typeof KmsLifecycleEventSchema>;
