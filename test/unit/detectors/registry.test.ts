import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { EVENT_DETECTORS } from '../../../src/detectors/index.js';
import { buildFinding } from '../../../src/findings/build.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import { corpusLines, lifecycleLines } from '../../support/corpus.js';
import { contextFor, DETECTOR_FIXTURES_DIR, detectorFixtureNames, fixtureRecordWith, INGESTED_AT } from './helpers.js';

/** Fixture name → ids of the event detectors that fire on it (every fixture listed, [] for none). */
const expectations = JSON.parse(readFileSync(`${DETECTOR_FIXTURES_DIR}expectations.json`, 'utf8')) as Record<string, string[]>;

const fixtures: [string, unknown][] = [
  ...corpusLines.map((line, i): [string, unknown] => [`corpus/${i + 1}`, JSON.parse(line)]),
  ...lifecycleLines.map((line, i): [string, unknown] => [`lifecycle/${i + 1}`, JSON.parse(line)]),
  ...detectorFixtureNames().map((name): [string, unknown] => [`detectors/${name}`, fixtureRecordWith(name)]),
];

describe('Detector registry', () => {
  const ctx = contextFor();
  const actual: Record<string, string[]> = {};
  for (const [name, value] of fixtures) {
    const result = normalizeValue(value, { uri: name, position: 0 }, INGESTED_AT);
    actual[name] = result.kind === 'event' ? EVENT_DETECTORS.filter((d) => d.match(result.event, ctx)).map((d) => d.id) : [];
  }

  it('has an expectation for every fixture and a fixture for every expectation', () => {
    expect(Object.keys(expectations).sort()).toEqual(fixtures.map(([name]) => name).sort());
  });

  it('fires exactly the expected detectors on every fixture (a new detector firing on old fixtures fails here)', () => {
    const differences = Object.keys(actual).filter((name) => JSON.stringify(actual[name]) !== JSON.stringify(expectations[name]));
    expect(Object.fromEntries(differences.map((name) => [name, { expected: expectations[name], actual: actual[name] }]))).toEqual({});
  });

  it('gives every event detector at least one fixture it fires on', () => {
    const fired = new Set(Object.values(actual).flat());
    expect(EVENT_DETECTORS.map((d) => d.id).filter((id) => !fired.has(id))).toEqual([]);
  });

  it('builds a valid finding from every match, even without history facts', () => {
    for (const [name, value] of fixtures) {
      const result = normalizeValue(value, { uri: name, position: 0 }, INGESTED_AT);
      if (result.kind !== 'event') continue;
      for (const detector of EVENT_DETECTORS.filter((d) => d.match(result.event, ctx))) {
        const finding = buildFinding(detector.describe(result.event, ctx, {}), detector, DEFAULT_CONFIG);
        expect(finding.event_ids, `${name} ${detector.id}`).toEqual([result.event.eventId]);
      }
    }
  });
});
