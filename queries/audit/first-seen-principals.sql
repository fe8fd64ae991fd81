-- purpose: Principals that used a key for the first time in the window (first use over all stored history), with the first call.
-- params: since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: key_arn, key_id, principal_arn, principal_account_id, is_cross_account, first_seen, first_event_name, first_event_id, calls
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- "First" is only as good as the history stored: ingest enough past trail before relying on it.
-- A call is attributed to the key it names first (ReEncrypt: the source key). Calls without a
-- principal ARN (AWS service events) are left out.
WITH uses AS (
  SELECT *
  FROM kms_events
  WHERE event_kind <> 'lifecycle'
    AND key_id IS NOT NULL
    AND principal_arn IS NOT NULL
    AND event_time < CAST($until AS TIMESTAMP)
),
firsts AS (
  SELECT
    key_id,
    principal_arn,
    min(event_time) AS first_seen,
    -- every call since the first falls in the window, so this is the window's count; a call
    -- logged in two accounts (one sharedEventID) counts once
    count(DISTINCT coalesce(shared_event_id, event_id)) AS calls
  FROM uses
  GROUP BY key_id, principal_arn
  HAVING min(event_time) >= CAST($since AS TIMESTAMP)
),
first_calls AS (
  -- The call(s) at first_seen; ties are broken by event_id.
  SELECT
    u.*,
    f.calls,
    row_number() OVER (PARTITION BY u.key_id, u.principal_arn ORDER BY u.event_id) AS nth
  FROM firsts f
  JOIN uses u
    ON u.key_id = f.key_id
    AND u.principal_arn = f.principal_arn
    AND u.event_time = f.first_seen
),
key_arns AS (
  -- Older records name a key by bare id: take the ARN from any row of the key.
  SELECT key_id, max(key_arn) AS key_arn
  FROM kms_events
  WHERE key_id IN (SELECT key_id FROM firsts)
  GROUP BY key_id
)
SELECT
  coalesce(c.key_arn, k.key_arn) AS key_arn,
  c.key_id,
  c.principal_arn,
  c.principal_account_id,
  c.is_cross_account,
  c.event_time AS first_seen,
  c.event_name AS first_event_name,
  c.event_id AS first_event_id,
  CAST(c.calls AS INTEGER) AS calls
FROM first_calls c
LEFT JOIN key_arns k ON k.key_id = c.key_id
WHERE c.nth = 1
ORDER BY first_seen, c.key_id, c.principal_arn
