-- purpose: Through which AWS services a key was used (from the encryption context or invokedBy), how often, by how many principals.
-- params: key (key ARN, key id or alias/name), since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: via_service, invoked_by, calls, errors, principals, operations, first_seen, last_seen
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- via_service is NULL for a call that names no service (a direct SDK or CLI call, as far as the
-- record shows). Key resolution as in key-usage-by-principal.sql.
WITH target AS (
  SELECT key_id, key_arn
  FROM kms_events
  WHERE key_id IS NOT NULL AND (key_arn = $key OR key_id = $key OR alias_name = $key)
  UNION
  SELECT regexp_extract($key, ':key/([^/]+)$', 1) AS key_id, $key AS key_arn
),
key_events AS (
  SELECT e.*
  FROM kms_events e
  WHERE e.event_kind <> 'lifecycle'
    AND e.event_time >= CAST($since AS TIMESTAMP)
    AND e.event_time < CAST($until AS TIMESTAMP)
    -- key_id first: it is what the lake is sorted and pruned by.
    AND e.key_id IN (SELECT key_id FROM target)
    AND (e.key_arn IS NULL OR e.key_arn IN (SELECT key_arn FROM target) OR e.key_id IN (SELECT key_id FROM target WHERE key_arn IS NULL))
  UNION ALL
  -- Called by alias, and no key logged at all.
  SELECT e.*
  FROM kms_events e
  WHERE e.event_kind <> 'lifecycle'
    AND e.event_time >= CAST($since AS TIMESTAMP)
    AND e.event_time < CAST($until AS TIMESTAMP)
    AND e.key_id IS NULL
    AND e.alias_name = $key
  UNION ALL
  -- ReEncrypt names its destination key second in resources[]: that is use of it too. A row can
  -- come twice (both branches); every aggregate below counts distinct calls.
  SELECT e.*
  FROM kms_events e
  CROSS JOIN UNNEST(e.related_key_arns) AS r (related_key_arn)
  WHERE e.event_name = 'ReEncrypt'
    AND e.event_time >= CAST($since AS TIMESTAMP)
    AND e.event_time < CAST($until AS TIMESTAMP)
    AND r.related_key_arn IN (SELECT key_arn FROM target)
)
SELECT
  via_service,
  invoked_by,
  CAST(count(DISTINCT coalesce(shared_event_id, event_id)) AS INTEGER) AS calls,
  CAST(count(DISTINCT CASE WHEN outcome = 'error' THEN coalesce(shared_event_id, event_id) END) AS INTEGER) AS errors,
  CAST(count(DISTINCT principal_arn) AS INTEGER) AS principals,
  array_sort(array_distinct(array_agg(event_name))) AS operations,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM key_events
GROUP BY via_service, invoked_by
ORDER BY calls DESC, via_service, invoked_by
