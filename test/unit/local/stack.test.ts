import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJava, createTableInput, freePort } from '../../../src/local/stack.ts';
import { TABLES } from '../../../src/resources.ts';

describe('Function: checkJava', () => {
  it('fails with one line saying Java 17+ is needed and how to install it when java is missing', () => {
    // Prepare: a PATH with no java on it.
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'no-java-'));
    try {
      // Act / Assess
      expect(() => checkJava()).toThrowError(
        /^DynamoDB Local needs Java 17 or newer: install it \(e\.g\. `apt-get install -y openjdk-17-jre-headless`\) and try again$/,
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('Function: createTableInput', () => {
  it('builds the decisions table with the keys and indexes of the shared definition', () => {
    const input = createTableInput(TABLES.decisions, 'pb-x-decisions');
    expect(input.TableName).toBe('pb-x-decisions');
    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(
      TABLES.decisions.indexes.map((i) => i.name),
    );
    for (const g of input.GlobalSecondaryIndexes ?? []) {
      expect(g.Projection?.ProjectionType).toBe('INCLUDE');
      expect(g.Projection?.NonKeyAttributes).toContain('amount');
    }
    // Each attribute is defined once, even when several indexes use it.
    const names = input.AttributeDefinitions?.map((a) => a.AttributeName) ?? [];
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('createdAt');
  });

  it('builds a key-only table without indexes', () => {
    const input = createTableInput(TABLES.profiles, 'p');
    expect(input.GlobalSecondaryIndexes).toBeUndefined();
    expect(input.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
  });
});

describe('Function: freePort', () => {
  it('returns a usable TCP port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
    expect(port).toBeLessThan(65536);
  });
});
