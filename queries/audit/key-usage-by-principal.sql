-- purpose: Who used a key, how often, and when first/last (a call logged in two accounts counts once).
-- params: key (key ARN, key id or alias/name), since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: principal_arn, principal_account_id, principal_type, calls, errors, first_seen, last_seen
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- The key as logged: rows that name it by ARN, key id or alias (an alias resolves to every key it was
-- logged with), plus the id inside a key ARN, for older records that name the key by bare id only.
-- A row matches a target when the ids agree and the ARNs do not contradict each other, so one
-- multi-Region replica's ARN does not pull in the other replicas' calls.
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
  principal_arn,
  principal_account_id,
  principal_type,
  -- A cross-account call is logged in the caller's and the owner's account with one sharedEventID.
  CAST(count(DISTINCT coalesce(shared_event_id, event_id)) AS INTEGER) AS calls,
  CAST(count(DISTINCT CASE WHEN outcome = 'error' THEN coalesce(shared_event_id, event_id) END) AS INTEGER) AS errors,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM key_events
GROUP BY principal_arn, principal_account_id, principal_type
ORDER BY calls DESC, principal_arn
