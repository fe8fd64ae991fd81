import { describe, expect, it } from 'vitest';
import { cloudtrailKmsEventsExcluded as detector } from '../../../src/detectors/cloudtrail-kms-events-excluded.js';
import { analyzeEventSelectors } from '../../../src/detectors/lib/event-selectors.js';
import { corpusEvent, detect, fixtureEvent, fixtureRecordWith, toEvent, type JsonRecord } from './helpers.js';

const TRAIL_ARN = 'arn:aws:cloudtrail:us-west-2:111122223333:trail/management-events';
const ADMIN = 'arn:aws:sts::111122223333:assumed-role/KMSAdminRole/alice';

/** The PutEventSelectors fixture with other basic selectors. */
function withSelectors(eventSelectors: object[]): JsonRecord {
  return fixtureRecordWith('trail-put-event-selectors-all-management', (r) => {
    r['requestParameters'] = { trailName: 'management-events', eventSelectors };
    r['responseElements'] = { trailARN: TRAIL_ARN, eventSelectors };
  });
}

/** The advanced-selector fixture with other selectors. */
function withAdvanced(advancedEventSelectors: object[]): JsonRecord {
  return fixtureRecordWith('trail-put-advanced-event-selectors-exclude-kms', (r) => {
    r['requestParameters'] = { trailName: TRAIL_ARN, advancedEventSelectors };
    r['responseElements'] = { trailARN: TRAIL_ARN, advancedEventSelectors };
  });
}

const MANAGEMENT = { field: 'eventCategory', equals: ['Management'] };

describe('Detector: CloudTrail.KmsEventsExcluded', () => {
  it('fires when basic selectors exclude kms.amazonaws.com', () => {
    const event = fixtureEvent('trail-put-event-selectors-exclude-kms');
    const draft = detect(detector, event);
    expect(draft?.summary).toBe(
      `PutEventSelectors by ${ADMIN} changed trail ${TRAIL_ARN} so that it no longer records all AWS KMS events ` +
        '(selector 1: excludeManagementEventSources contains kms.amazonaws.com).',
    );
    expect(draft?.accountId).toBe('111122223333');
    expect(draft?.keyArn).toBeNull();
    expect(draft?.eventIds).toEqual([event.eventId]);
    expect(draft?.context).toMatchObject({ change: 'event-selectors', selectorKind: 'basic', kmsReadEventsLogged: false, kmsWriteEventsLogged: false });
  });

  it('fires when an advanced management selector has eventSource NotEquals kms.amazonaws.com', () => {
    const draft = detect(detector, fixtureEvent('trail-put-advanced-event-selectors-exclude-kms'));
    expect(draft?.summary).toContain(`changed trail ${TRAIL_ARN} so that it no longer records all AWS KMS events`);
    expect(draft?.context['notes']).toEqual(['selector "Management events without KMS": eventSource excludes KMS management events']);
  });

  it('fires when management events are turned off (includeManagementEvents: false, the Stratus Red Team technique)', () => {
    const draft = detect(detector, toEvent(withSelectors([{ readWriteType: 'ReadOnly', includeManagementEvents: false, dataResources: [{ type: 'AWS::S3::Object', values: [] }], excludeManagementEventSources: [] }])));
    expect(draft?.summary).toContain('no longer records all AWS KMS events (selector 1: includeManagementEvents is false)');
  });

  it('fires when only write management events are kept: every cryptographic call (read-only) is lost', () => {
    const draft = detect(detector, toEvent(withSelectors([{ readWriteType: 'WriteOnly', includeManagementEvents: true, excludeManagementEventSources: [] }])));
    expect(draft?.context).toMatchObject({ kmsReadEventsLogged: false, kmsWriteEventsLogged: true });
    expect(draft?.summary).toContain('AWS KMS read-only events, which include every cryptographic call');
  });

  it('fires when an advanced selector keeps only read-only management events', () => {
    const draft = detect(detector, toEvent(withAdvanced([{ name: 'reads', fieldSelectors: [MANAGEMENT, { field: 'readOnly', equals: ['true'] }] }])));
    expect(draft?.context).toMatchObject({ kmsReadEventsLogged: true, kmsWriteEventsLogged: false });
    expect(draft?.summary).toContain('AWS KMS write events');
  });

  it('judges a record named PutAdvancedEventSelectors like PutEventSelectors', () => {
    const draft = detect(detector, fixtureEvent('trail-put-advanced-event-selectors-exclude-kms', { eventName: 'PutAdvancedEventSelectors' }));
    expect(draft?.context).toMatchObject({ selectorKind: 'advanced', operation: 'PutAdvancedEventSelectors' });
  });

  it('fires on StopLogging and on DeleteTrail, one finding per call', () => {
    const stop = detect(detector, fixtureEvent('trail-stop-logging'));
    expect(stop?.summary).toBe(`StopLogging by ${ADMIN} stopped trail ${TRAIL_ARN}: it records no AWS KMS events (nor any other) until StartLogging.`);
    expect(stop?.dedupKey).toBe(fixtureEvent('trail-stop-logging').eventId);
    const deleted = detect(detector, fixtureEvent('trail-delete-trail'));
    expect(deleted?.summary).toContain('deleted trail management-events');
    expect(deleted?.context['change']).toBe('trail-deleted');
  });

  it('gives the same dedup key to the same selectors put again, and another to different ones', () => {
    const first = detect(detector, fixtureEvent('trail-put-event-selectors-exclude-kms'));
    const again = detect(detector, fixtureEvent('trail-put-event-selectors-exclude-kms', { eventID: '11111111-2222-4333-8444-555555555555', eventTime: '2024-03-09T18:00:00Z' }));
    const other = detect(detector, toEvent(withSelectors([{ readWriteType: 'WriteOnly', includeManagementEvents: true }])));
    expect(again?.dedupKey).toBe(first?.dedupKey);
    expect(other?.dedupKey).not.toBe(first?.dedupKey);
  });

  it('ignores selectors that still log all management events', () => {
    expect(detect(detector, fixtureEvent('trail-put-event-selectors-all-management'))).toBeNull();
  });

  it('ignores a ReadOnly selector and a WriteOnly selector together (together they log everything)', () => {
    const both = withSelectors([
      { readWriteType: 'ReadOnly', includeManagementEvents: true },
      { readWriteType: 'WriteOnly', includeManagementEvents: true },
    ]);
    expect(detect(detector, toEvent(both))).toBeNull();
  });

  it('ignores advanced selectors that log management events beside a data-event selector', () => {
    const advanced = withAdvanced([
      { name: 'Management events selector', fieldSelectors: [MANAGEMENT] },
      { name: 'S3', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }] },
    ]);
    expect(detect(detector, toEvent(advanced))).toBeNull();
  });

  it('ignores an advanced selector that excludes only the RDS Data API', () => {
    const rds = withAdvanced([{ name: 'no rdsdata', fieldSelectors: [MANAGEMENT, { field: 'eventSource', notEquals: ['rdsdata.amazonaws.com'] }] }]);
    expect(detect(detector, toEvent(rds))).toBeNull();
  });

  it('ignores the call when errorCode is set (a failed change left the trail as it was)', () => {
    const failed = fixtureEvent('trail-stop-logging', {
      errorCode: 'AccessDenied',
      errorMessage: `User: ${ADMIN} is not authorized to perform: cloudtrail:StopLogging on resource: ${TRAIL_ARN}`,
    });
    expect(detect(detector, failed)).toBeNull();
    expect(detect(detector, fixtureEvent('trail-put-event-selectors-exclude-kms', { errorCode: 'InvalidHomeRegionException', errorMessage: 'wrong region' }))).toBeNull();
  });

  it('ignores a PutEventSelectors record whose selectors were not logged', () => {
    expect(detect(detector, fixtureEvent('trail-put-event-selectors-exclude-kms', { requestParameters: null }))).toBeNull();
  });

  it('ignores KMS events, and works when resources are null (trail calls carry none)', () => {
    expect(detect(detector, corpusEvent(22))).toBeNull();
    expect(detect(detector, fixtureEvent('trail-put-event-selectors-exclude-kms', { resources: null }))?.context['trail']).toBe(TRAIL_ARN);
  });
});

describe('event selector analysis', () => {
  it('reads PascalCase fields as the API spells them', () => {
    const analysis = analyzeEventSelectors({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, ExcludeManagementEventSources: ['kms.amazonaws.com'] }] });
    expect(analysis).toMatchObject({ kind: 'basic', coverage: { read: false, write: false } });
  });

  it('treats a selector without includeManagementEvents or readWriteType as logging all management events', () => {
    expect(analyzeEventSelectors({ eventSelectors: [{ dataResources: [] }] })).toMatchObject({ coverage: { read: true, write: true } });
  });

  it('says when the selectors cannot be read', () => {
    expect(analyzeEventSelectors({ trailName: 'x' }).kind).toBe('unknown');
  });
});
