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

/** The first context key that names a service: the service, and the key's value (the resource). */
export function serviceContextEntry(context: Record<string, unknown> | null | undefined): { service: string; resource: string | null } | null {
  if (!context) return null;
  for (const [key, value] of Object.entries(context)) {
    const service = CONTEXT_KEY_SERVICES[key] ?? /^aws:([a-z0-9-]+):/.exec(key)?.[1];
    if (service) return { service, resource: contextValue(value) };
  }
  return null;
}

/** Context values are strings; anything else is kept as its JSON text. */
function contextValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
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

/** The service a call was for and, when the encryption context named it, the resource. */
export function resolveService(
  context: Record<string, unknown> | null | undefined,
  invokedBy: string | null,
): { viaService: string | null; serviceResource: string | null } {
  const entry = serviceContextEntry(context);
  if (entry) return { viaService: entry.service, serviceResource: entry.resource };
  return { viaService: serviceFromInvokedBy(invokedBy), serviceResource: null };
}
