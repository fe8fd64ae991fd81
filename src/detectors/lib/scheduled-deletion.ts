import type { KmsEvent } from '../../normalize/types.js';
import { parseAwsDate } from './aws-dates.js';
import { jsonObject, numberAt, stringAt } from './json-text.js';

/** KMS's waiting period when the request names none. */
const DEFAULT_WINDOW_DAYS = 30;

export interface ScheduledDeletion {
  /** ISO-8601 UTC when readable, else as logged; null when not logged (multi-Region primary keys). */
  deletionDate: string | null;
  pendingWindowInDays: number | null;
  /** `PendingDeletion`, or `PendingReplicaDeletion` for a primary key that waits for its replicas. */
  keyState: string | null;
}

/** What a ScheduleKeyDeletion record says about the deletion it scheduled. */
export function scheduledDeletion(event: Pick<KmsEvent, 'requestParameters' | 'responseElements'>): ScheduledDeletion {
  const request = jsonObject(event.requestParameters);
  const response = jsonObject(event.responseElements);
  const logged = stringAt(response, 'deletionDate') ?? numberAt(response, 'deletionDate');
  return {
    deletionDate: logged === null ? null : (parseAwsDate(logged) ?? String(logged)),
    pendingWindowInDays: numberAt(response, 'pendingWindowInDays') ?? numberAt(request, 'pendingWindowInDays') ?? (request ? DEFAULT_WINDOW_DAYS : null),
    keyState: stringAt(response, 'keyState'),
  };
}
