-- purpose: Rotation evidence per key: rotations in the window, the last rotation, and whether rotation is enabled (last EnableKeyRotation/DisableKeyRotation).
-- params: since (UTC timestamp such as 2024-03-01 00:00:00, inclusive), until (UTC timestamp, exclusive)
-- columns: key_arn, key_id, rotations, rotate_key_events, rotation_notifications, on_demand_requests, last_rotated_at, rotation_enabled, rotation_state_changes, last_state_change_at, last_state_change_by
-- athena: runs as is in Trino
-- athena: bind each $name as a positional ? (once per occurrence); pass timestamps as 'YYYY-MM-DD HH:MM:SS', since Trino's CAST rejects the ISO T/Z form

-- One row per key seen (by ARN) before until, with or without evidence: no rotation evidence is
-- itself a finding. Counts are for the window; last_rotated_at, rotation_enabled and the last state
-- change look at all stored history before until.
-- One rotation leaves a RotateKey service event in CloudTrail and a "KMS CMK Rotation" EventBridge
-- event; rotations is the larger of the two counts, so a rotation ingested both ways counts once.
-- RotateKeyOnDemand (a request, completed by a RotateKey service event) is counted apart.
-- rotation_enabled is NULL when no Enable/DisableKeyRotation was stored.
WITH keys AS (
  SELECT DISTINCT key_arn, key_id
  FROM kms_events
  WHERE key_arn IS NOT NULL
    AND key_id IS NOT NULL
    AND event_time < CAST($until AS TIMESTAMP)
),
evidence AS (
  SELECT
    k.key_arn,
    k.key_id,
    e.event_id,
    e.event_name,
    e.event_time,
    e.principal_arn
  FROM keys k
  JOIN kms_events e
    ON e.key_id = k.key_id
    AND (e.key_arn IS NULL OR e.key_arn = k.key_arn)
  WHERE e.event_name IN ('RotateKey', 'KMS CMK Rotation', 'RotateKeyOnDemand', 'EnableKeyRotation', 'DisableKeyRotation')
    AND e.outcome = 'success'
    AND e.event_time < CAST($until AS TIMESTAMP)
),
counts AS (
  SELECT
    k.key_arn,
    k.key_id,
    CAST(sum(CASE WHEN v.event_name = 'RotateKey' AND v.event_time >= CAST($since AS TIMESTAMP) THEN 1 ELSE 0 END) AS INTEGER) AS rotate_key_events,
    CAST(sum(CASE WHEN v.event_name = 'KMS CMK Rotation' AND v.event_time >= CAST($since AS TIMESTAMP) THEN 1 ELSE 0 END) AS INTEGER) AS rotation_notifications,
    CAST(sum(CASE WHEN v.event_name = 'RotateKeyOnDemand' AND v.event_time >= CAST($since AS TIMESTAMP) THEN 1 ELSE 0 END) AS INTEGER) AS on_demand_requests,
    max(CASE WHEN v.event_name IN ('RotateKey', 'KMS CMK Rotation', 'RotateKeyOnDemand') THEN v.event_time END) AS last_rotated_at,
    CAST(sum(CASE WHEN v.event_name IN ('EnableKeyRotation', 'DisableKeyRotation') AND v.event_time >= CAST($since AS TIMESTAMP) THEN 1 ELSE 0 END) AS INTEGER) AS rotation_state_changes
  FROM keys k
  LEFT JOIN evidence v ON v.key_arn = k.key_arn AND v.key_id = k.key_id
  GROUP BY k.key_arn, k.key_id
),
last_change AS (
  SELECT *
  FROM (
    SELECT
      v.*,
      row_number() OVER (PARTITION BY v.key_arn, v.key_id ORDER BY v.event_time DESC, v.event_id DESC) AS latest
    FROM evidence v
    WHERE v.event_name IN ('EnableKeyRotation', 'DisableKeyRotation')
  ) l
  WHERE latest = 1
)
SELECT
  c.key_arn,
  c.key_id,
  greatest(c.rotate_key_events, c.rotation_notifications) AS rotations,
  c.rotate_key_events,
  c.rotation_notifications,
  c.on_demand_requests,
  c.last_rotated_at,
  CASE l.event_name WHEN 'EnableKeyRotation' THEN true WHEN 'DisableKeyRotation' THEN false END AS rotation_enabled,
  c.rotation_state_changes,
  l.event_time AS last_state_change_at,
  l.principal_arn AS last_state_change_by
FROM counts c
LEFT JOIN last_change l ON l.key_arn = c.key_arn AND l.key_id = c.key_id
ORDER BY c.key_arn
