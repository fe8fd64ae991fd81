-- purpose: Which keys declared vendor accounts used (BYOK), with what operations, how often and when last.
-- params: vendor_accounts (comma-separated 12-digit account ids), since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: key_arn, key_id, vendor_account_id, principals, calls, errors, operations, first_seen, last_seen
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- A list cannot be bound as one parameter in plain SQL, so the accounts come as one string and
-- membership is a search for ",<account>," in ",<list>," (spaces removed): portable to Trino
-- without split/contains. Only calls on another account's key count (a vendor using its own key
-- is not BYOK use); a record that names the key by bare id is the caller's own key.
SELECT
  key_arn,
  key_id,
  principal_account_id AS vendor_account_id,
  CAST(count(DISTINCT principal_arn) AS INTEGER) AS principals,
  CAST(count(DISTINCT coalesce(shared_event_id, event_id)) AS INTEGER) AS calls,
  CAST(count(DISTINCT CASE WHEN outcome = 'error' THEN coalesce(shared_event_id, event_id) END) AS INTEGER) AS errors,
  array_sort(array_distinct(array_agg(event_name))) AS operations,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM kms_events
WHERE event_kind <> 'lifecycle'
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
  AND principal_account_id IS NOT NULL
  AND strpos(',' || replace($vendor_accounts, ' ', '') || ',', ',' || principal_account_id || ',') > 0
  AND key_account_id IS NOT NULL
  AND key_account_id <> principal_account_id
GROUP BY key_arn, key_id, principal_account_id
ORDER BY key_arn, vendor_account_id
