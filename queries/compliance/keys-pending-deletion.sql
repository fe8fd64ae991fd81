-- purpose: Keys pending deletion as of a time (scheduled, not cancelled, no deletion seen), with every call on the key after scheduling.
-- params: as_of (UTC timestamp such as 2024-04-01 00:00:00; events before it count)
-- columns: key_arn, key_id, scheduled_at, scheduled_by, pending_window_days, deletion_due_at, status, calls_after, failed_pending_deletion, callers_after, last_call_after
-- athena: replace json_extract_string(x, '$.path') with json_extract_scalar(x, '$.path')
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- A key is pending when its latest successful ScheduleKeyDeletion has no later successful
-- CancelKeyDeletion and no later deletion (DeleteKey service event or "KMS CMK Deletion" event).
-- status "deletion due": the waiting period has passed but no deletion was stored (the key is
-- probably gone; the evidence is missing). Calls after scheduling include failed ones: a call on a
-- key pending deletion fails with KMSInvalidStateException "... is pending deletion.", which is the
-- sign that something still depends on the key.
WITH scheduled AS (
  SELECT *
  FROM (
    SELECT
      e.*,
      row_number() OVER (PARTITION BY e.key_id, e.key_arn ORDER BY e.event_time DESC, e.event_id DESC) AS latest
    FROM kms_events e
    WHERE e.event_name = 'ScheduleKeyDeletion'
      AND e.outcome = 'success'
      AND e.key_id IS NOT NULL
      AND e.event_time < CAST($as_of AS TIMESTAMP)
  ) s
  WHERE latest = 1
),
ended AS (
  -- Cancelled or deleted after the latest scheduling.
  SELECT DISTINCT s.key_id, s.key_arn
  FROM scheduled s
  JOIN kms_events c
    ON c.key_id = s.key_id
    AND (c.key_arn IS NULL OR s.key_arn IS NULL OR c.key_arn = s.key_arn)
  WHERE c.event_name IN ('CancelKeyDeletion', 'DeleteKey', 'KMS CMK Deletion')
    AND c.outcome = 'success'
    AND c.event_time > s.event_time
    AND c.event_time < CAST($as_of AS TIMESTAMP)
),
pending AS (
  SELECT
    s.key_arn,
    s.key_id,
    s.event_time AS scheduled_at,
    s.principal_arn AS scheduled_by,
    -- pendingWindowInDays is optional in the request; KMS defaults it to 30.
    coalesce(CAST(json_extract_string(s.request_parameters, '$.pendingWindowInDays') AS INTEGER), 30) AS pending_window_days
  FROM scheduled s
  LEFT JOIN ended d
    ON d.key_id = s.key_id
    AND d.key_arn IS NOT DISTINCT FROM s.key_arn
  WHERE d.key_id IS NULL
),
after_scheduling AS (
  -- Calls that name the key, after it was scheduled.
  SELECT p.key_arn, p.key_id, u.event_id, u.shared_event_id, u.error_code, u.error_message, u.principal_arn, u.event_time
  FROM pending p
  JOIN kms_events u
    ON u.key_id = p.key_id
    AND (u.key_arn IS NULL OR p.key_arn IS NULL OR u.key_arn = p.key_arn)
  WHERE u.event_kind = 'api_call'
    AND u.event_time > p.scheduled_at
    AND u.event_time < CAST($as_of AS TIMESTAMP)
  UNION ALL
  -- ReEncrypt names its destination key second in resources[].
  SELECT p.key_arn, p.key_id, u.event_id, u.shared_event_id, u.error_code, u.error_message, u.principal_arn, u.event_time
  FROM pending p
  JOIN (
    SELECT e.*, r.related_key_arn
    FROM kms_events e
    CROSS JOIN UNNEST(e.related_key_arns) AS r (related_key_arn)
    WHERE e.event_name = 'ReEncrypt'
  ) u
    ON u.related_key_arn = p.key_arn
  WHERE u.event_time > p.scheduled_at
    AND u.event_time < CAST($as_of AS TIMESTAMP)
)
SELECT
  p.key_arn,
  p.key_id,
  p.scheduled_at,
  p.scheduled_by,
  p.pending_window_days,
  p.scheduled_at + p.pending_window_days * INTERVAL '1' DAY AS deletion_due_at,
  CASE
    WHEN p.scheduled_at + p.pending_window_days * INTERVAL '1' DAY <= CAST($as_of AS TIMESTAMP) THEN 'deletion due'
    ELSE 'pending deletion'
  END AS status,
  -- A call can come twice (a ReEncrypt from the key into itself; two logged copies): count calls.
  CAST(count(DISTINCT coalesce(a.shared_event_id, a.event_id)) AS INTEGER) AS calls_after,
  CAST(count(DISTINCT CASE
    WHEN a.error_code = 'KMSInvalidStateException' AND a.error_message LIKE '%is pending deletion.'
    THEN coalesce(a.shared_event_id, a.event_id)
  END) AS INTEGER) AS failed_pending_deletion,
  CAST(count(DISTINCT a.principal_arn) AS INTEGER) AS callers_after,
  max(a.event_time) AS last_call_after
FROM pending p
LEFT JOIN after_scheduling a
  ON a.key_id = p.key_id
  AND a.key_arn IS NOT DISTINCT FROM p.key_arn
GROUP BY p.key_arn, p.key_id, p.scheduled_at, p.scheduled_by, p.pending_window_days
ORDER BY calls_after DESC, p.scheduled_at, p.key_id
