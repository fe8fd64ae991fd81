import { z } from 'zod';
import { SeveritySchema } from '../findings/finding.js';

const AccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const IsoDateSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const VendorSchema = z.strictObject({
  /** Shown in findings: "you are about to break vendor X". */
  name: z.string().min(1),
  accounts: z.array(AccountIdSchema).default([]),
  /** Role/user ARNs the vendor calls from (optional; accounts alone are enough to recognise it). */
  principals: z.array(z.string().startsWith('arn:', 'must be an ARN')).default([]),
});

export const KeyDeclarationSchema = z
  .strictObject({
    /** Key ARN, bare key id, or alias (`alias/name`); matched against what was logged. */
    key_arn: z.string().min(1).optional(),
    key_id: z.string().min(1).optional(),
    alias: z.string().startsWith('alias/', 'must start with alias/').optional(),
    description: z.string().optional(),
    never_delete: z.boolean().default(false),
    vendors: z.array(VendorSchema).default([]),
  })
  .refine((k) => k.key_arn ?? k.key_id ?? k.alias, { message: 'a key needs key_arn, key_id or alias' });

export const SuppressionSchema = z
  .strictObject({
    detector: z.string().optional(),
    key: z.string().optional(),
    principal: z.string().optional(),
    account: AccountIdSchema.optional(),
    service: z.string().optional(),
    /** After this date the suppression no longer applies (and keytrail says it expired). */
    expires: IsoDateSchema.optional(),
    reason: z.string().optional(),
  })
  .refine((s) => s.detector ?? s.key ?? s.principal ?? s.account ?? s.service, {
    message: 'a suppression needs at least one of detector, key, principal, account, service',
  });

export const AlertsSchema = z.strictObject({
  sns_topic_arn: z.string().startsWith('arn:', 'must be an SNS topic ARN').optional(),
  event_bus: z.string().min(1).optional(),
  min_severity: SeveritySchema.default('medium'),
  /** Region and endpoint overrides (local emulators, other partitions). */
  region: z.string().optional(),
  sns_endpoint: z.string().url().optional(),
  eventbridge_endpoint: z.string().url().optional(),
});

export const DetectionSettingsSchema = z.strictObject({
  /** Past-usage window carried by deletion/disable findings. */
  lookback_days: z.number().int().positive().default(90),
  access_denied_burst: z
    .strictObject({
      threshold: z.number().int().positive().default(10),
      window_minutes: z.number().int().positive().default(15),
    })
    .default({ threshold: 10, window_minutes: 15 }),
  /** Query detectors re-run over this many days of stored events. */
  query_window_days: z.number().int().positive().default(30),
  /** A finding with the same dedup key inside this window is the same finding (per detector override). */
  dedup_window_hours: z.number().int().positive().default(24),
  dedup_window_hours_by_detector: z.record(z.string(), z.number().int().positive()).default({}),
});

export const KeytrailConfigSchema = z.strictObject({
  /** Accounts expected on every key (the organization). The key owner is always trusted. */
  trusted_accounts: z.array(AccountIdSchema).default([]),
  keys: z.array(KeyDeclarationSchema).default([]),
  suppressions: z.array(SuppressionSchema).default([]),
  severity_overrides: z.record(z.string(), SeveritySchema).default({}),
  detection: DetectionSettingsSchema.default(DetectionSettingsSchema.parse({})),
  alerts: AlertsSchema.default(AlertsSchema.parse({})),
});

export type KeytrailConfig = z.infer<typeof KeytrailConfigSchema>;
export type KeyDeclaration = z.infer<typeof KeyDeclarationSchema>;
export type Vendor = z.infer<typeof VendorSchema>;
export type Suppression = z.infer<typeof SuppressionSchema>;

/** The configuration used when there is no file: nothing trusted beyond each key's owner. */
export const DEFAULT_CONFIG: KeytrailConfig = KeytrailConfigSchema.parse({});
