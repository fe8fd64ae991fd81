import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETECTOR_DOCS_PATH, renderDetectorDocs } from '../../../scripts/generate-detector-docs.js';
import { DETECTORS } from '../../../src/detectors/index.js';

describe('docs/DETECTORS.md', () => {
  it('is what `npm run docs:detectors` generates from the detector metadata (run it when this fails)', () => {
    expect(readFileSync(DETECTOR_DOCS_PATH, 'utf8')).toBe(renderDetectorDocs());
  });

  it('documents every detector, in index order', () => {
    const text = renderDetectorDocs();
    const positions = DETECTORS.map((d) => text.indexOf(`## ${d.id}\n`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
