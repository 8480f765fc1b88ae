/**
 * A config's allow list, --require and --preset deploy say the same with -j 1 and -j 2: the
 * audit thread rebuilds the run from plain options, suppressed findings, checks and stale
 * entries included. The tree holds 3,000 links, so -j 2 really hands them to the second thread.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { ensureBuilt } from '../support/build.js';
import { BIN } from '../support/repo.js';
import { diskSandbox, type Sandbox } from '../support/sandbox.js';

function deployTree(): Tree {
  const release: Tree = {};
  for (let i = 0; i < 3000; i++) release[`l${String(i).padStart(4, '0')}`] = { link: i % 3 === 0 ? '../../shared/gone' : i % 3 === 1 ? '/shared/log' : '../../shared/log' };
  return { app: { releases: { '1': {}, '2': release }, shared: { log: {} }, current: { link: 'releases/1' } } };
}

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
      const args = [BIN, app, '--root', app, '--config', config, '--format', format];
      const one = spawnSync(process.execPath, [...args, '-j', '1'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const two = spawnSync(process.execPath, [...args, '-j', '2'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(one.status, format + one.stderr).toBe(1);
      expect(two.status, format).toBe(1);
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
