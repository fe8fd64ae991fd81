import type { KeytrailConfig } from '../config/schema.js';
import type { Severity } from '../findings/finding.js';
import type { KmsEvent } from '../normalize/types.js';

/** Metadata every detector carries; ids are a public contract (users suppress and route by them). */
export interface DetectorMeta {
  id: string;
  title: string;
  severity: Severity;
  /** experimental: findings are stored but never sent. */
  status: 'stable' | 'experimental';
  /** What fires it, in one or two sentences (goes into docs/DETECTORS.md). */
  description: string;
  runbook: readonly string[];
  references: readonly string[];
  /** false: evidence only — stored, not sent by default (KMS.KeyRotated). */
  alert?: boolean;
  /**
   * Default dedup window of this detector, in hours (config `dedup_window_hours_by_detector` still
   * wins; without either, `dedup_window_hours`).
   */
  dedupWindowHours?: number;
  /**
   * true: the same dedup key is the same finding whenever it recurs (no window). For facts that happen
   * once, such as a key's deletion, whose repeats (EventBridge retries, the service event) may straddle
   * a window boundary.
   */
  oncePerDedupKey?: boolean;
}

/**
 * What a detector says about what it saw; the findings module turns it into a `Finding` (id,
 * schema version, severity overrides, runbook).
 */
export interface FindingDraft {
  /** Same key (within the detector's dedup window) = same finding. */
  dedupKey: string;
  /** Defaults to the detector's severity; a detector may raise or lower it per case. */
  severity?: Severity;
  summary: string;
  occurredAt: string;
  accountId: string | null;
  region: string | null;
  keyArn: string | null;
  principalArn: string | null;
  principalAccountId: string | null;
  eventIds: string[];
  context: Record<string, unknown>;
}

/**
 * Facts from stored history that some detectors need (past usage, the previous key policy, …). The
 * engine fetches them from the store before calling `describe`, so detectors stay pure.
 */
export interface HistoryFacts {
  /** Past-usage summary of the event's key over the lookback window before the event. */
  usageSummary?: UsageSummary | null;
  /** The key policy (JSON text) from the last CreateKey/PutKeyPolicy before this event. */
  previousKeyPolicy?: string | null;
  /** Deletion date from the last successful ScheduleKeyDeletion of the key, if seen. */
  deletionDate?: string | null;
  /** Whether the caller's account was seen using the key before this event. */
  accountSeenBefore?: boolean;
}

export type HistoryFactName = keyof HistoryFacts;

export interface UsageSummary {
  keyArn: string;
  windowDays: number;
  from: string;
  to: string;
  /** Every API call and service event on the key in the window (lifecycle events are not calls). */
  totalCalls: number;
  /** The calls among `totalCalls` that are cryptographic operations (Decrypt, GenerateDataKey, …): use. */
  cryptographicCalls: number;
  byOperation: Record<string, number>;
  principals: { arn: string | null; accountId: string | null; calls: number }[];
  accounts: { accountId: string; calls: number; external: boolean; vendor: string | null }[];
  services: string[];
  firstUse: string | null;
  lastUse: string | null;
  lastCryptographicUse: string | null;
  errors: number;
  /** Earliest and latest event stored at all: how much evidence there was. */
  evidenceFrom: string | null;
  evidenceTo: string | null;
  /** What was counted, in words, for the finding and the reader. */
  basis: string;
}

/** Configuration and indexes a detector may read; built once per run. */
export interface DetectionContext {
  config: KeytrailConfig;
  /** The declared key (config.keys[]) for an event's key, matched by ARN, key id or alias. */
  declaredKey(event: Pick<KmsEvent, 'keyArn' | 'keyId' | 'aliasName'>): KeytrailConfig['keys'][number] | null;
  /**
   * Trusted accounts: the organization's, from config. The key owner is always trusted too: pass the
   * key's account as `keyAccountId` to include it.
   */
  isTrustedAccount(accountId: string, keyAccountId?: string | null): boolean;
}

/** A predicate over one normalized event. */
export interface EventDetector extends DetectorMeta {
  kind: 'event';
  /** Facts the engine must fetch before `describe` (only for events that matched). */
  needs?: readonly HistoryFactName[];
  match(event: KmsEvent, ctx: DetectionContext): boolean;
  describe(event: KmsEvent, ctx: DetectionContext, facts: HistoryFacts): FindingDraft;
}

/** SQL over the `kms_events` table (named, bound parameters only), mapped to drafts. */
export interface QueryDetector extends DetectorMeta {
  kind: 'query';
  sql: string;
  /** Values for the SQL's `$name` parameters (window bounds, thresholds). */
  params(ctx: DetectionContext, window: { from: string; to: string }): Record<string, string | number | boolean>;
  toDrafts(rows: Record<string, unknown>[], ctx: DetectionContext): FindingDraft[];
}

export type Detector = EventDetector | QueryDetector;
