/**
 * Which AWS service a call was made for. `invokedBy` names a service that called on the caller's
 * behalf; the encryption context names the resource the data key protects (`aws:s3:arn`,
 * `aws:ebs:id`, `aws:lambda:FunctionArn`, …), which identifies the service even when the service's
 * own role made the call.
 */

/** Encryption-context keys that name a service without the `aws:<service>:` convention. */
const CONTEXT_KEY_SERVICES: Record<string, string> = {
  SecretARN: 'secretsmanager',
  PARAMETER_ARN: 'ssm',
  'aws:workmail:arn': 'workmail',
};

/** The service of the first context key that names one. */
export function serviceFromEncryptionContext(context: Record<string, unknown> | null | undefined): string | null {
  if (!context) return null;
  for (const key of Object.keys(context)) {
    const known = CONTEXT_KEY_SERVICES[key];
    if (known) return known;
    const m = /^aws:([a-z0-9-]+):/.exec(key);
    if (m?.[1]) return m[1];
  }
  return null;
}

/**
 * `s3.amazonaws.com` → `s3`, `workmail.eu-west-1.amazonaws.com` → `workmail`; `AWS Internal` and
 * `internal.amazonaws.com` (AWS's own plumbing, not a service a user chose) → null.
 */
export function serviceFromInvokedBy(invokedBy: string | null): string | null {
  if (!invokedBy) return null;
  const m = /^([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/.exec(invokedBy);
  const service = m?.[1] ?? null;
  return service === 'internal' ? null : service;
}

export function resolveViaService(
  context: Record<string, unknown> | null | undefined,
  invokedBy: string | null,
): string | null {
  return serviceFromEncryptionContext(context) ?? serviceFromInvokedBy(invokedBy);
}
