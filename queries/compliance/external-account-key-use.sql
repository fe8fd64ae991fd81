-- purpose: Keys used by accounts outside the organization (caller account is not the key owner and not listed), per key and account.
-- params: org_accounts (comma-separated 12-digit account ids of the organization; may be empty), since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: key_arn, key_id, key_account_id, principal_account_id, principals, calls, errors, operations, first_seen, last_seen
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- is_cross_account: the caller's account and the key owner's account are both known and differ.
-- The organization's accounts come as one string; membership is a search for ",<account>," in
-- ",<list>," with spaces removed (a bound list is not portable SQL). Denied calls count: they are
-- attempts, logged only in the caller's account.
SELECT
  key_arn,
  key_id,
  key_account_id,
  principal_account_id,
  CAST(count(DISTINCT principal_arn) AS INTEGER) AS principals,
  CAST(count(DISTINCT coalesce(shared_event_id, event_id)) AS INTEGER) AS calls,
  CAST(count(DISTINCT CASE WHEN outcome = 'error' THEN coalesce(shared_event_id, event_id) END) AS INTEGER) AS errors,
  array_sort(array_distinct(array_agg(event_name))) AS operations,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM kms_events
WHERE is_cross_account
  AND event_kind <> 'lifecycle'
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
  AND strpos(',' || replace($org_accounts, ' ', '') || ',', ',' || principal_account_id || ',') = 0
GROUP BY key_arn, key_id, key_account_id, principal_account_id
ORDER BY key_arn, principal_account_id
