-- purpose: Who changed key policies, grants, state, deletion, rotation, aliases, key material, descriptions and tags; failed attempts included.
-- params: key (key ARN, key id or alias/name; empty for every key), since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: event_time, event_name, outcome, error_code, key_arn, key_id, alias_name, principal_arn, principal_account_id, principal_type, session_issuer_arn, invoked_by, source_ip, event_id
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- Key resolution as in key-usage-by-principal.sql. A call logged in two accounts (a vendor
-- retiring its grant on the customer's key) is listed once. Custom key store changes name no key,
-- so they appear only when key is empty.
WITH target AS (
  SELECT key_id, key_arn
  FROM kms_events
  WHERE key_id IS NOT NULL AND (key_arn = $key OR key_id = $key OR alias_name = $key)
  UNION
  SELECT regexp_extract($key, ':key/([^/]+)$', 1) AS key_id, $key AS key_arn
),
admin AS (
  SELECT
    e.*,
    row_number() OVER (PARTITION BY coalesce(e.shared_event_id, e.event_id) ORDER BY e.event_id) AS copy_rank
  FROM kms_events e
  WHERE e.event_source = 'kms.amazonaws.com'
    AND e.event_kind = 'api_call'
    AND e.event_name IN (
      'CreateKey', 'PutKeyPolicy', 'CreateGrant', 'RevokeGrant', 'RetireGrant',
      'DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion',
      'EnableKeyRotation', 'DisableKeyRotation', 'RotateKeyOnDemand',
      'CreateAlias', 'UpdateAlias', 'DeleteAlias',
      'ImportKeyMaterial', 'DeleteImportedKeyMaterial',
      'UpdateKeyDescription', 'TagResource', 'UntagResource',
      'ReplicateKey', 'UpdatePrimaryRegion',
      'CreateCustomKeyStore', 'UpdateCustomKeyStore', 'ConnectCustomKeyStore',
      'DisconnectCustomKeyStore', 'DeleteCustomKeyStore'
    )
    AND e.event_time >= CAST($since AS TIMESTAMP)
    AND e.event_time < CAST($until AS TIMESTAMP)
    AND (
      $key = ''
      OR (e.key_id IS NULL AND e.alias_name = $key)
      OR (
        e.key_id IN (SELECT key_id FROM target)
        AND (e.key_arn IS NULL OR e.key_arn IN (SELECT key_arn FROM target) OR e.key_id IN (SELECT key_id FROM target WHERE key_arn IS NULL))
      )
    )
)
SELECT
  event_time,
  event_name,
  outcome,
  error_code,
  key_arn,
  key_id,
  alias_name,
  principal_arn,
  principal_account_id,
  principal_type,
  session_issuer_arn,
  invoked_by,
  source_ip,
  event_id
FROM admin
WHERE copy_rank = 1
ORDER BY event_time, event_id
