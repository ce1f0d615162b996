import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../../src/cli/commands/publish.ts';

describe('Function: compareVersions', () => {
  it('orders rule versions as semver does, integers as major versions', () => {
    const ordered = [
      '1',
      '1.0.1',
      '1.1.0-alpha',
      '1.1.0-alpha.1',
      '1.1.0-rc.2',
      '1.1.0-rc.10',
      '1.1.0',
      '2',
      '10.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(
        0,
      );
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareVersions('1', '1.0.0')).toBe(0);
    expect(compareVersions('2.0.0-rc.1', '2.0.0-rc.1')).toBe(0);
  });
});
