-- purpose: Cross-account calls with their two logged copies paired by sharedEventID (a missing owner copy: denied, or the owner's trail not ingested).
-- params: since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: call_id, event_time, event_name, key_arn, key_account_id, principal_arn, principal_account_id, outcome, error_code, caller_copy_event_id, owner_copy_event_id, copies
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- CloudTrail logs a cross-account call in the caller's and in the key owner's account with the same
-- sharedEventID and different eventIDs; a call denied in the caller's account is logged only there.
-- call_id is the sharedEventID, or the eventID when the record has none.
SELECT
  coalesce(shared_event_id, event_id) AS call_id,
  min(event_time) AS event_time,
  min(event_name) AS event_name,
  min(key_arn) AS key_arn,
  min(key_account_id) AS key_account_id,
  min(principal_arn) AS principal_arn,
  min(principal_account_id) AS principal_account_id,
  min(outcome) AS outcome,
  min(error_code) AS error_code,
  min(CASE WHEN recipient_account_id = principal_account_id THEN event_id END) AS caller_copy_event_id,
  min(CASE WHEN recipient_account_id = key_account_id THEN event_id END) AS owner_copy_event_id,
  CAST(count(*) AS INTEGER) AS copies
FROM kms_events
WHERE is_cross_account
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
GROUP BY coalesce(shared_event_id, event_id)
ORDER BY event_time, call_id
