import type { Evidence, UsageWindow } from './evidence.js';
import type { AliasResolution, KeyRefKind } from './key-resolve.js';

/**
 * Who used a KMS key, how, from where, and how far the stored evidence goes: what to know before
 * disabling or deleting it. Built by `pastUsage()` from `kms_events` only; every count is over the
 * window unless its name says otherwise. Times are ISO-8601 UTC (`2024-03-01T09:00:00.000Z`), days
 * `yyyy-mm-dd` (UTC). Cross-account calls logged in both accounts (same `sharedEventID`) count once.
 *
 * Words used throughout: a **call** is any API call or service event on the key (lifecycle events
 * from EventBridge are not calls; they are in `lifecycle`); a **use** is a call that uses the key
 * material or hands out its public key — a cryptographic operation or GetPublicKey — successful or
 * not (a failed Decrypt is someone who still needs the key).
 */
export interface PastUsageReport {
  /** Changes when a field changes meaning. */
  reportVersion: 1;
  key: PastUsageKey;
  window: UsageWindow;
  evidence: Evidence;
  totals: UsageTotals;
  /** Calls by operation (event name), most calls first. */
  operations: OperationCount[];
  /** Callers, most calls first. An assumed role is one principal (its sessions are counted). */
  principals: PrincipalUsage[];
  /** Calling accounts other than the key owner (empty when the owner is unknown). */
  externalAccounts: ExternalAccountUsage[];
  /** AWS services the calls were made for or by, most calls first. */
  services: ServiceUsage[];
  /** Days of the window with calls on the key (days without calls are omitted). */
  daily: DailyCount[];
  /** Failed calls by error code, most first. */
  errors: ErrorCount[];
  ciphertexts: CiphertextProducers;
  /** What stored events say about the key's lifecycle, over all stored events (not only the window). */
  lifecycle: KeyLifecycle;
  /** Calls on the key over all stored events, for context beyond the window. */
  allStored: { calls: number; uses: number; firstCall: string | null; lastCall: string | null; lastUse: string | null };
  /**
   * Calls in the window that named one of the key's aliases but logged no key (older records
   * without `resources`): they may be this key's, so "no use" cannot be claimed while any exist.
   */
  unattributedAliasCalls: number;
  verdict: PastUsageVerdict;
}

export interface PastUsageKey {
  /** The reference as given. */
  ref: string;
  resolvedFrom: KeyRefKind;
  /** Null when no stored event names the key by ARN (only by bare key id). */
  arn: string | null;
  id: string;
  /** The key owner; null when unknown (then external accounts cannot be told apart). */
  accountId: string | null;
  region: string | null;
  /** Set when the reference was an alias: which key it named, seen when, and what else it named. */
  alias: AliasResolution | null;
  /** Alias names seen naming this key (CreateAlias/UpdateAlias to it, calls through them), last seen first. */
  aliases: { name: string; lastSeen: string }[];
  /** The key's entry in the configuration (`keys[]`), if any. */
  declared: { description: string | null; neverDelete: boolean; vendors: string[] } | null;
}

export interface UsageTotals {
  calls: number;
  uses: number;
  /** Uses that failed (AccessDenied, DisabledException, pending deletion, …): someone still needs the key. */
  failedUses: number;
  /** Failed calls (any operation). */
  errors: number;
  firstCall: string | null;
  lastCall: string | null;
  firstUse: string | null;
  lastUse: string | null;
}

export interface OperationCount {
  operation: string;
  calls: number;
  /** Equal to `calls` for a use operation, else 0. */
  uses: number;
  errors: number;
}

export interface PrincipalUsage {
  /** IAM user/role ARN (the role for assumed-role sessions); null for AWS services and unknown callers. */
  arn: string | null;
  /** `user/Alice`, `role/AppRole`, `s3.amazonaws.com`, or `(unknown)`. */
  name: string;
  /** userIdentity.type: IAMUser, AssumedRole, Root, AWSService, … (null when not logged). */
  type: string | null;
  accountId: string | null;
  /** Distinct assumed-role sessions (0 for other principal types). */
  sessions: number;
  calls: number;
  uses: number;
  errors: number;
  firstCall: string;
  lastCall: string;
  lastUse: string | null;
}

export interface ExternalAccountUsage {
  accountId: string;
  /** The BYOK vendor declared for this key with this account, if any. */
  vendor: string | null;
  /** When `vendor` is null: a vendor declared with this account on another key (the same company, not declared here). */
  vendorOfOtherKey: string | null;
  /** Listed in `trusted_accounts`. */
  trusted: boolean;
  principals: number;
  calls: number;
  uses: number;
  errors: number;
  firstCall: string;
  lastCall: string;
}

export interface ServiceUsage {
  /** `s3`, `ebs`, `lambda`, … (from the encryption context, else `invokedBy`). */
  service: string;
  calls: number;
  uses: number;
  /** Distinct `userIdentity.invokedBy` values on those calls. */
  invokedBy: string[];
  /** Up to 3 resources named by the encryption context (`aws:s3:arn`, `aws:ebs:id`, …), most calls first. */
  exampleResources: { resource: string; calls: number }[];
}

export interface DailyCount {
  day: string;
  calls: number;
  uses: number;
  errors: number;
}

export interface ErrorCount {
  /** Null when the call failed with an errorMessage only. */
  errorCode: string | null;
  calls: number;
  lastSeen: string;
}

/**
 * Successful calls that may have produced ciphertexts only this key decrypts (AWS keeps no record of
 * ciphertexts: these calls are the only evidence): Encrypt, GenerateDataKey, GenerateDataKeyPair,
 * their WithoutPlaintext forms, and ReEncrypt into this key.
 */
export interface CiphertextProducers {
  inWindow: number;
  byOperation: { operation: string; calls: number }[];
  /** Over all stored events. */
  allStored: number;
  lastProduced: string | null;
}

export type LifecycleKind =
  | 'created'
  | 'disabled'
  | 'enabled'
  | 'deletion-scheduled'
  | 'deletion-cancelled'
  | 'rotation-enabled'
  | 'rotation-disabled'
  | 'rotated'
  | 'key-material-imported'
  | 'key-material-deleted'
  | 'key-material-expired'
  | 'deleted';

export interface LifecycleEntry {
  time: string;
  kind: LifecycleKind;
  /** The event name as stored (`ScheduleKeyDeletion`, `KMS CMK Rotation`, …). */
  event: string;
  eventId: string;
  /** Who did it (IAM ARN, role for sessions, or the AWS service); null for EventBridge events. */
  by: string | null;
  /** For deletion-scheduled: when KMS deletes the key, and the waiting period. */
  deletionDate?: string | null;
  pendingWindowInDays?: number | null;
}

export interface KeyLifecycle {
  /** Successful lifecycle changes, oldest first. */
  entries: LifecycleEntry[];
  /** The state the last stored change left the key in; null when none is stored. */
  lastKnownState: 'enabled' | 'disabled' | 'pending-deletion' | 'pending-import' | 'deleted' | null;
  /** The pending deletion, when the last deletion-related change is a scheduling. */
  pendingDeletion: { scheduledAt: string; deletionDate: string | null } | null;
  deletedAt: string | null;
}

export interface PastUsageVerdict {
  status: 'in-use' | 'no-use-seen' | 'no-evidence';
  /** One line for a person, e.g. `in use: 1,204 operations by 3 principals in the last 30 days, 1 external account (vendor Acme)`. */
  headline: string;
  /** Why, one fact per line. */
  reasons: string[];
  /**
   * True only when no use is seen, the evidence covers every day of the window, no alias call could
   * be this key's, and the configuration does not mark the key never_delete.
   */
  safeToDelete: boolean;
  /** What to do or why not: deletion is irreversible either way. */
  note: string;
}
