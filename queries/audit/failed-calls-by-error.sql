-- purpose: Failed calls by error code and operation: how many, on how many keys, by how many principals, first and last.
-- params: since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: error_code, event_name, calls, keys, principals, first_seen, last_seen, sample_error_message
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- Failed calls are evidence: access denied, disabled keys (DisabledException), keys pending
-- deletion (KMSInvalidStateException "... is pending deletion."). Trail configuration calls
-- (cloudtrail.amazonaws.com) that failed are listed too.
SELECT
  error_code,
  event_name,
  CAST(count(DISTINCT coalesce(shared_event_id, event_id)) AS INTEGER) AS calls,
  CAST(count(DISTINCT key_id) AS INTEGER) AS keys,
  CAST(count(DISTINCT principal_arn) AS INTEGER) AS principals,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  min(error_message) AS sample_error_message
FROM kms_events
WHERE outcome = 'error'
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
GROUP BY error_code, event_name
ORDER BY calls DESC, error_code, event_name
