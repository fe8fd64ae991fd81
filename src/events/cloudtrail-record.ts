import { z } from 'zod';

/**
 * Boundary schemas for CloudTrail records. Objects are loose: unknown fields pass through untouched
 * (the raw record is kept for evidence), while the fields keytrail reads are checked. Real trails
 * carry older shapes: `userIdentity.type` can be absent, `resources` null or empty,
 * `requestParameters` null, and errors can come without a message.
 */

const optionalString = z.string().nullish();

export const SessionIssuerSchema = z.looseObject({
  type: optionalString,
  principalId: optionalString,
  arn: optionalString,
  accountId: optionalString,
  userName: optionalString,
});

export const UserIdentitySchema = z.looseObject({
  type: optionalString,
  principalId: optionalString,
  arn: optionalString,
  accountId: optionalString,
  accessKeyId: optionalString,
  userName: optionalString,
  invokedBy: optionalString,
  sessionContext: z
    .looseObject({
      sessionIssuer: SessionIssuerSchema.nullish(),
    })
    .nullish(),
});

export const CloudTrailResourceSchema = z.looseObject({
  ARN: optionalString,
  accountId: optionalString,
  type: optionalString,
});

const jsonObject = z.record(z.string(), z.unknown());

export const CloudTrailRecordSchema = z.looseObject({
  eventVersion: optionalString,
  eventID: z.string().min(1, 'eventID is empty'),
  eventTime: z.iso.datetime({ offset: true, message: 'eventTime is not an ISO-8601 timestamp' }),
  eventSource: z.string().min(1, 'eventSource is empty'),
  eventName: z.string().min(1, 'eventName is empty'),
  eventType: optionalString,
  awsRegion: optionalString,
  recipientAccountId: optionalString,
  // Present on every real record, but service events and some guide examples omit it.
  userIdentity: UserIdentitySchema.nullish(),
  sourceIPAddress: optionalString,
  userAgent: optionalString,
  vpcEndpointId: optionalString,
  errorCode: optionalString,
  errorMessage: optionalString,
  requestParameters: jsonObject.nullish(),
  responseElements: jsonObject.nullish(),
  additionalEventData: jsonObject.nullish(),
  serviceEventDetails: jsonObject.nullish(),
  requestID: optionalString,
  sharedEventID: optionalString,
  readOnly: z.boolean().nullish(),
  managementEvent: z.boolean().nullish(),
  eventCategory: optionalString,
  resources: z.array(CloudTrailResourceSchema).nullish(),
});

export type CloudTrailRecord = z.infer<typeof CloudTrailRecordSchema>;
export type UserIdentity = z.infer<typeof UserIdentitySchema>;

/** A CloudTrail S3 delivery file: `{"Records":[…]}`. Records are validated one by one. */
export const CloudTrailDeliveryFileSchema = z.looseObject({
  Records: z.array(z.unknown()),
});
