-- purpose: Trail changes that stop or narrow KMS logging (StopLogging, DeleteTrail, event selectors that exclude KMS), and when logging came back.
-- params: since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: event_time, event_name, trail_name, kms_logging, restored_at, outcome, error_code, principal_arn, principal_account_id, recipient_account_id, aws_region, event_id
-- athena: replace json_extract_string(x, '$.path') with json_extract_scalar(x, '$.path'); CAST(request_parameters AS VARCHAR) is valid there as is
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- kms_logging: stopped, started, trail deleted, excludes kms (a basic selector's
-- excludeManagementEventSources, or an advanced field selector eventSource notEquals, names
-- kms.amazonaws.com), excludes management events (includeManagementEvents false), selectors
-- changed (none of those), unchanged (call failed). It is a conservative textual screen of the
-- logged request: one excluding selector flags the call even if another selector still logs KMS;
-- the CloudTrail.KmsEventsExcluded detector evaluates selectors exactly.
-- restored_at: the next StartLogging (after stopped) or the next selectors change that excludes
-- nothing (after an exclusion) on the same trail, account and region, at any later time.
WITH changes AS (
  SELECT
    e.*,
    regexp_replace(
      coalesce(json_extract_string(e.request_parameters, '$.trailName'), json_extract_string(e.request_parameters, '$.name')),
      '^arn:[^:]+:cloudtrail:[^:]*:[0-9]*:trail/',
      ''
    ) AS trail_name,
    CASE
      WHEN e.outcome = 'error' THEN 'unchanged (call failed)'
      WHEN e.event_name = 'StopLogging' THEN 'stopped'
      WHEN e.event_name = 'StartLogging' THEN 'started'
      WHEN e.event_name = 'DeleteTrail' THEN 'trail deleted'
      WHEN coalesce(regexp_extract(CAST(e.request_parameters AS VARCHAR), '"excludeManagementEventSources":\s*\[[^\]]*"kms\.amazonaws\.com"'), '') <> ''
        OR coalesce(regexp_extract(CAST(e.request_parameters AS VARCHAR), '\{[^{}]*"field":\s*"eventSource"[^{}]*"notEquals":\s*\[[^\]]*"kms\.amazonaws\.com"'), '') <> ''
        THEN 'excludes kms'
      WHEN coalesce(regexp_extract(CAST(e.request_parameters AS VARCHAR), '"includeManagementEvents":\s*false'), '') <> ''
        THEN 'excludes management events'
      ELSE 'selectors changed'
    END AS kms_logging
  FROM kms_events e
  WHERE e.event_source = 'cloudtrail.amazonaws.com'
    AND e.event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors', 'StopLogging', 'StartLogging', 'DeleteTrail')
)
SELECT
  c.event_time,
  c.event_name,
  c.trail_name,
  c.kms_logging,
  min(r.event_time) AS restored_at,
  c.outcome,
  c.error_code,
  c.principal_arn,
  c.principal_account_id,
  c.recipient_account_id,
  c.aws_region,
  c.event_id
FROM changes c
LEFT JOIN changes r
  ON r.recipient_account_id = c.recipient_account_id
  AND r.aws_region = c.aws_region
  AND r.trail_name = c.trail_name
  AND r.event_time > c.event_time
  AND c.kms_logging IN ('stopped', 'excludes kms', 'excludes management events')
  AND r.kms_logging = CASE WHEN c.kms_logging = 'stopped' THEN 'started' ELSE 'selectors changed' END
WHERE c.event_time >= CAST($since AS TIMESTAMP)
  AND c.event_time < CAST($until AS TIMESTAMP)
GROUP BY
  c.event_time, c.event_name, c.trail_name, c.kms_logging, c.outcome, c.error_code,
  c.principal_arn, c.principal_account_id, c.recipient_account_id, c.aws_region, c.event_id
ORDER BY c.event_time, c.event_id
