/**
 * A config's allow list, --require and --preset deploy say the same with -j 1 and -j 2: the
 * audit thread rebuilds the run from plain options, suppressed findings, checks and stale
 * entries included. The tree holds 3,000 links, so -j 2 really hands them to the second thread.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { diskSandbox, type Sandbox } from '../support/sandbox.js';
import { deployTree } from '../support/tree.js';

let sb: Sandbox;
beforeAll(() => {
  ensureBuilt();
  sb = diskSandbox(deployTree());
});
afterAll(() => sb.cleanup());

describe('-j 1 and -j 2 with a config, --require and --preset deploy', () => {
  it('write the same report in every format', () => {
    const config = `${sb.base}/config.json`;
    fs.writeFileSync(
      config,
      JSON.stringify({
        allow: [
          { path: 'releases/2/l0[0-4]*', rules: ['dangling', 'deploy-layout'], reason: 'not yet' },
          { path: 'nothing/*', rules: ['loop'], reason: 'stale' },
        ],
        rules: { 'view-mismatch': 'off' },
        require: ['shared/pids'],
        preset: 'deploy',
      }),
    );
    const app = `${sb.base}/app`;
    for (const format of ['json', 'ndjson', 'pretty']) {
      const args = [app, '--root', app, '--config', config, '--format', format];
      const one = spawnCli([...args, '-j', '1']);
      const two = spawnCli([...args, '-j', '2']);
      expect(one.code, format + one.stderr).toBe(1);
      expect(two.code, format).toBe(1);
      expect(two.stdout === one.stdout, `${format}: the two-thread report is the one-thread report`).toBe(true);
      if (format === 'json') {
        const doc = JSON.parse(one.stdout) as { links: Array<{ suppressed?: unknown[] }>; checks: unknown[]; stale: unknown[]; summary: { suppressed: number; stale: number } };
        expect(doc.links).toHaveLength(3001);
        expect(doc.summary.suppressed).toBeGreaterThan(100);
        expect(doc.checks).toHaveLength(1);
        expect(doc.stale).toHaveLength(1);
        expect(doc.summary.stale).toBe(1);
      }
    }
  }, 60_000);
});
