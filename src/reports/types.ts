import type { PastUsageReport } from '../analysis/past-usage.js';
import type { Severity } from '../findings/finding.js';
import type { AccessKind } from './labels.js';
import type { ReportPeriod } from './period.js';

/**
 * The report objects `keytrail report … --format json` prints. Times are ISO-8601 UTC
 * (`2024-03-01T09:00:00.000Z`), days `yyyy-mm-dd` (UTC). Counts of calls count a cross-account call
 * logged in both accounts (one `sharedEventID`) once. Only what keytrail stored is counted: the
 * period's `evidence` says which days have no stored events at all.
 */
export type Report = ComplianceReport | KeyReport | CrossAccountReport;

export type ReportName = Report['kind'];
export const REPORT_NAMES = ['compliance', 'key', 'cross-account'] as const satisfies readonly ReportName[];

interface ReportBase {
  /** Changes when a field changes meaning. */
  reportVersion: 1;
  generatedAt: string;
  period: ReportPeriod;
  /** CloudTrail changes in the period that stopped or narrowed KMS logging (gaps in the evidence). */
  loggingChanges: LoggingChange[];
}

export interface LoggingChange {
  time: string;
  operation: string;
  trail: string | null;
  /** `stopped`, `trail deleted`, `excludes kms`, `excludes management events`. */
  effect: string;
  /** When logging was seen coming back (StartLogging, selectors that exclude nothing); null if never. */
  restoredAt: string | null;
  principalArn: string | null;
  accountId: string | null;
  region: string | null;
  eventId: string;
}

// --- compliance -----------------------------------------------------------------------------

export interface ComplianceReport extends ReportBase {
  kind: 'compliance';
  /** Events stored in the period (every kind), and rejected input records stored at any time. */
  totals: { events: number; calls: number; keys: number; principals: number; rejectedRecords: number };
  keys: KeyInventoryEntry[];
  /** Successful state changes in the period, oldest first. */
  transitions: KeyTransition[];
  rotation: RotationEntry[];
  /** Keys pending deletion at the end of the period (scheduled, not cancelled, no deletion stored). */
  pendingDeletion: PendingDeletionEntry[];
  administration: AdministrationEvidence;
  crossAccount: CrossAccountSummaryRow[];
  findings: FindingsEvidence;
  usage: UsageEvidence;
  controls: ControlMapping[];
}

export type KeyState = 'enabled' | 'disabled' | 'pending-deletion' | 'pending-import' | 'deleted';

export type TransitionKind =
  | 'created'
  | 'enabled'
  | 'disabled'
  | 'deletion-scheduled'
  | 'deletion-cancelled'
  | 'deleted'
  | 'key-material-imported'
  | 'key-material-deleted'
  | 'key-material-expired'
  | 'rotation-enabled'
  | 'rotation-disabled'
  | 'replicated'
  | 'primary-region-updated';

export interface KeyRef {
  /** Null when no stored event names the key by ARN (only by bare key id). */
  keyArn: string | null;
  keyId: string;
  /** Alias from the configuration, else the last one logged; null when none is known. */
  alias: string | null;
}

export interface KeyInventoryEntry extends KeyRef {
  accountId: string | null;
  region: string | null;
  /** Declared in the configuration's `keys[]`. */
  declared: boolean;
  description: string | null;
  neverDelete: boolean;
  vendors: string[];
  firstSeen: string;
  lastSeen: string;
  /** API calls and service events on the key in the period. */
  calls: number;
  errors: number;
  /** State after the last stored change before the end of the period; null when none is stored. */
  stateAtEnd: KeyState | null;
  /** Imported key material (origin EXTERNAL, or ImportKeyMaterial seen): KMS cannot rotate it automatically. */
  importedMaterial: boolean;
  transitionsInPeriod: number;
}

export interface KeyTransition extends KeyRef {
  time: string;
  kind: TransitionKind;
  /** The event name as stored. */
  event: string;
  by: string | null;
  byAccountId: string | null;
  /** Further stored copies of the same change (a repeated "KMS CMK Deletion" event, the DeleteKey service event). */
  repeats: number;
  /** What else the record says (deletion date, key material expiry, replica Region). */
  detail: string | null;
  eventId: string;
}

export interface RotationEntry extends KeyRef {
  /** Rotations in the period (RotateKey service events or "KMS CMK Rotation" events, whichever is more). */
  rotations: number;
  onDemandRequests: number;
  /** Last rotation stored before the end of the period, at any time. */
  lastRotatedAt: string | null;
  /** From the last EnableKeyRotation/DisableKeyRotation stored; null when none is stored. */
  rotationEnabled: boolean | null;
  lastStateChangeAt: string | null;
  lastStateChangeBy: string | null;
  importedMaterial: boolean;
  /** No rotation and no on-demand request stored in the period. */
  noEvidenceInPeriod: boolean;
  /**
   * The evidence read as a whole: rotated in the period; else why none was expected (deleted,
   * imported material, rotated in the 365 days before the end, automatic rotation last enabled);
   * else `rotation disabled` or `no evidence`, which need an explanation.
   */
  status: RotationStatus;
}

export type RotationStatus =
  | 'rotated in period'
  | 'rotated within a year'
  | 'rotation enabled'
  | 'imported material'
  | 'key deleted'
  | 'rotation disabled'
  | 'no evidence';

export interface PendingDeletionEntry extends KeyRef {
  scheduledAt: string;
  scheduledBy: string | null;
  pendingWindowDays: number | null;
  /** responseElements.deletionDate when logged and readable, else scheduledAt + window. */
  deletionDate: string | null;
  deletionDateSource: 'logged' | 'computed' | 'unknown';
  /** `deletion due`: the date passed before the end of the period, but no deletion is stored. */
  status: 'pending deletion' | 'deletion due';
  callsAfterScheduling: number;
  /** Calls that failed because the key is pending deletion: something still needs the key. */
  failedPendingDeletion: number;
  lastCallAfterScheduling: string | null;
}

export interface AdministrativeAction extends KeyRef {
  time: string;
  operation: string;
  outcome: string;
  errorCode: string | null;
  principalArn: string | null;
  accountId: string | null;
  /** The AWS service that made the call for the principal (EC2 creating grants for EBS, …). */
  invokedBy: string | null;
  sourceIp: string | null;
  eventId: string;
}

export interface AdministratorSummary {
  /** Role ARN for role sessions, else the logged caller. */
  principal: string;
  accountId: string | null;
  actions: number;
  failed: number;
  keys: number;
  operations: string[];
  invokedBy: string | null;
  first: string;
  last: string;
}

export interface AdministrationEvidence {
  actions: AdministrativeAction[];
  byPrincipal: AdministratorSummary[];
}

export interface CrossAccountSummaryRow extends KeyRef {
  keyAccountId: string | null;
  callerAccountId: string;
  access: AccessKind;
  vendor: string | null;
  vendorDeclaredForKey: boolean;
  /**
   * The configured suppression that silences KMS.CrossAccountUse for this caller on this key (its
   * `suppressed_by` label, with the reason): the configuration says the access is known. Null otherwise.
   */
  suppressedBy: string | null;
  principals: number;
  operations: string[];
  calls: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
}

export interface FindingEntry {
  findingId: string;
  occurredAt: string;
  severity: Severity;
  detectorId: string;
  title: string;
  summary: string;
  keyArn: string | null;
  keyLabel: string | null;
  principalArn: string | null;
  accountId: string | null;
  status: string;
  suppressedBy: string | null;
}

export interface FindingsEvidence {
  /** Open, not suppressed, occurred in the period; most severe first. */
  open: FindingEntry[];
  openBySeverity: Record<Severity, number>;
  /** Suppressed by a configured suppression: listed apart, with the suppression's reason. */
  suppressed: FindingEntry[];
  /** Findings per day and severity (open and not suppressed), for the chart. */
  daily: { day: string; severity: Severity; findings: number }[];
}

export interface UsageEvidence {
  /** Calls per day and key (days and keys without calls omitted). */
  dailyByKey: { day: string; keyArn: string | null; keyId: string; label: string; calls: number }[];
  /** Callers by calls in the period; roles, not sessions. */
  byPrincipal: { principal: string; accountId: string | null; calls: number; errors: number; keys: number }[];
}

export interface ControlMapping {
  framework: 'PCI DSS v4.0' | 'SOC 2 (2017 TSC)';
  control: string;
  requirement: string;
  /** Report sections (their ids) that evidence it. */
  sections: string[];
  evidence: string;
  /** What CloudTrail cannot show, which the auditor must get elsewhere. */
  limits: string;
  status: 'evidence' | 'attention' | 'no evidence';
  statusReason: string;
}

// --- key ------------------------------------------------------------------------------------

export interface KeyReport extends ReportBase {
  kind: 'key';
  /** Past usage and lifecycle from `pastUsage` over the report's period. */
  usage: PastUsageReport;
  rotation: RotationEntry | null;
  pendingDeletion: PendingDeletionEntry | null;
  administration: AdministrationEvidence;
  timeline: KeyTimeline;
  /** Findings on the key that occurred in the period. */
  findings: FindingsEvidence;
}

export interface TimelineEvent {
  time: string;
  event: string;
  kind: string;
  outcome: string;
  errorCode: string | null;
  principalArn: string | null;
  accountId: string | null;
  invokedBy: string | null;
  viaService: string | null;
  sourceIp: string | null;
  /** As logged (JSON text): can contain anything a caller chose to put in it. */
  encryptionContext: string | null;
  eventId: string;
}

export interface KeyTimeline {
  /** Events on the key in the period, oldest first; the latest `shown` of `total`. */
  events: TimelineEvent[];
  total: number;
  shown: number;
}

// --- cross-account --------------------------------------------------------------------------

export interface CrossAccountReport extends ReportBase {
  kind: 'cross-account';
  /** `unknownAccounts`: caller accounts neither vendor nor trusted, and not acknowledged by a suppression. */
  totals: { calls: number; errors: number; keys: number; accounts: number; unknownAccounts: number };
  /** One row per key, caller account, principal (role for sessions) and operation. */
  rows: CrossAccountRow[];
  byAccount: CrossAccountSummaryRow[];
  /** Calls per day and caller account. */
  daily: { day: string; callerAccountId: string; calls: number }[];
}

export interface CrossAccountRow extends KeyRef {
  keyAccountId: string | null;
  callerAccountId: string;
  access: AccessKind;
  vendor: string | null;
  vendorDeclaredForKey: boolean;
  /** As in `CrossAccountSummaryRow`. */
  suppressedBy: string | null;
  principal: string;
  operation: string;
  calls: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
}
