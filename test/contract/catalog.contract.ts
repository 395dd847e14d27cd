/**
 * The catalog contract (src/catalog/catalog.ts) as one suite, run over every catalog type and
 * store by catalog.test.ts: load, register, compare-and-swap commit, conflicts (and a race of two
 * committers), namespaces, listing, drop where offered. A catalog that passes it serves the
 * engines. Type-specific behaviour (SQL rows and schema forms, Hadoop version files and hints)
 * stays in each type's own tests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Catalog, TableIdentifier } from '../../src/catalog/catalog.ts';
import { CommitConflictError, ConfigError } from '../../src/errors.ts';
import type { StorageResolver } from '../../src/storage/router.ts';
import { contractMetadata } from '../helpers/contract-metadata.ts';

/** One catalog under the contract. */
export interface CatalogHarness {
  /** Names the catalog in test titles. */
  readonly name: string;
  /** Why the suite is skipped (its server is absent), or false. */
  readonly skip: string | false;
  /** Whether it offers `dropTable` (a file layout has no registry to drop from). */
  readonly dropsTables: boolean;
  /** Whether a namespace without tables is listed (SQL records it; a file layout cannot). */
  readonly listsEmptyNamespaces: boolean;
  /**
   * Whether namespaces nest (SQL, Hadoop); a catalog of one level (Glue databases) must refuse a
   * nested one with a ConfigError instead, and lists nothing below a namespace. Default true.
   */
  readonly nestsNamespaces?: boolean;
  /**
   * A fresh, empty catalog: `open()` gives a handle on it (call it twice for two committers), with
   * `warehouse` the root its tables' metadata goes under and `resolve` the storage of its files.
   */
  setup(): Promise<{ open(): Promise<Catalog>; warehouse: string; resolve: StorageResolver }>;
}

/** The tag of a file {@link contractMetadata} made (or a catalog rewrote from one). */
function tagOf(b: Uint8Array): string {
  return JSON.parse(new TextDecoder().decode(b)).properties['contract.tag'];
}

/** Defines the contract suite for one catalog. */
export function catalogContract(h: CatalogHarness): void {
  describe(`catalog contract: ${h.name}`, { skip: h.skip }, () => {
    const nests = h.nestsNamespaces ?? true;
    let env: Awaited<ReturnType<CatalogHarness['setup']>>;
    let cat: Catalog;
    const opened: Catalog[] = [];
    const open = async () => {
      const c = await env.open();
      opened.push(c);
      return c;
    };

    before(async () => {
      env = await h.setup();
      cat = await open();
    });
    after(async () => {
      for (const c of opened) await c.close();
    });

    /** Where a commit of `id` over `expected` goes: the catalog's own choice, else a fresh name. */
    const locationFor = (c: Catalog, id: TableIdentifier, expected: string | undefined) =>
      c.nextMetadataLocation(id, expected) ??
      `${env.warehouse}/${[...id.namespace, id.name].join('/')}/metadata/${randomUUID()}.metadata.json`;

    /** Snapshots committed per table so far: each commit adds one. */
    const versions = new Map<string, number>();
    const key = (id: TableIdentifier) => [...id.namespace, id.name].join('.');

    /**
     * Commits a version tagged `tag` over `expected` (one snapshot more than the last one this
     * suite committed to the table, or than `snapshots` when given); resolves the committed location.
     */
    const commit = async (
      c: Catalog,
      id: TableIdentifier,
      expected: string | undefined,
      tag: string,
      snapshots?: number,
    ) => {
      const n = snapshots ?? (expected === undefined ? 1 : (versions.get(key(id)) ?? 0) + 1);
      const location = await c.commitTable(
        id,
        expected,
        locationFor(c, id, expected),
        contractMetadata(id, tag, n),
      );
      versions.set(key(id), Math.max(versions.get(key(id)) ?? 0, n));
      return location;
    };

    /** The tag of the metadata at `location`. */
    const readBack = async (location: string) => tagOf(await env.resolve(location).read(location));

    it('loads nothing for a table never registered', async () => {
      assert.equal(await cat.loadTable({ namespace: ['db'], name: 'never' }), undefined);
    });

    it('registers a table: the committed location holds the bytes and loads back', async () => {
      const id = { namespace: ['db'], name: 'reg' };
      const location = await commit(cat, id, undefined, '{"v":1}');
      assert.equal((await cat.loadTable(id))?.metadataLocation, location);
      assert.equal(await readBack(location), '{"v":1}');
      // A second registration of the same table loses, and changes nothing.
      await assert.rejects(commit(cat, id, undefined, '{"v":"again"}'), CommitConflictError);
      assert.equal((await cat.loadTable(id))?.metadataLocation, location);
    });

    it('commits with compare-and-swap: only over the current location', async () => {
      const id = { namespace: ['db'], name: 'cas' };
      const v1 = await commit(cat, id, undefined, '1');
      const v2 = await commit(cat, id, v1, '2');
      assert.notEqual(v2, v1);
      assert.equal((await cat.loadTable(id))?.metadataLocation, v2);
      assert.equal(await readBack(v2), '2');
      // A stale expectation loses, naming the table, and the table keeps its location and bytes.
      await assert.rejects(commit(cat, id, v1, 'stale'), (e: unknown) => {
        assert.ok(e instanceof CommitConflictError, String(e));
        assert.match(e.message, /db\.cas/);
        return true;
      });
      assert.equal((await cat.loadTable(id))?.metadataLocation, v2);
      assert.equal(await readBack(v2), '2');
      // So does a commit to a table that does not exist.
      await assert.rejects(
        cat.commitTable(
          { namespace: ['db'], name: 'absent' },
          v1,
          locationFor(cat, id, v1),
          contractMetadata({ namespace: ['db'], name: 'absent' }, 'x', 2),
        ),
        (e: unknown) => e instanceof CommitConflictError || e instanceof ConfigError,
      );
      assert.equal(await cat.loadTable({ namespace: ['db'], name: 'absent' }), undefined);
    });

    it('lets exactly one of two concurrent committers win, on each of several rounds', async () => {
      const one = cat;
      const two = await open();
      const id = { namespace: ['db'], name: 'race' };
      let current = await commit(one, id, undefined, 'v0');
      for (let round = 1; round <= 5; round++) {
        assert.equal((await two.loadTable(id))?.metadataLocation, current);
        const next = round + 1;
        const results = await Promise.allSettled([
          commit(one, id, current, `one ${round}`, next),
          commit(two, id, current, `two ${round}`, next),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>[];
        const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        assert.equal(won.length, 1, 'exactly one wins');
        assert.ok(lost[0]?.reason instanceof CommitConflictError, String(lost[0]?.reason));
        current = won[0]!.value;
        const winner = results[0]!.status === 'fulfilled' ? 'one' : 'two';
        assert.equal(await readBack(current), `${winner} ${round}`);
        assert.equal((await one.loadTable(id))?.metadataLocation, current);
        assert.equal((await two.loadTable(id))?.metadataLocation, current);
      }
      // Concurrent registration of a new table: one wins too.
      const fresh = { namespace: ['db'], name: 'race_new' };
      const results = await Promise.allSettled([
        commit(one, fresh, undefined, 'one'),
        commit(two, fresh, undefined, 'two'),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    it('ensures namespaces idempotently, also when two race', async () => {
      await cat.ensureNamespace(['db']);
      const two = await open();
      await Promise.all([cat.ensureNamespace(['made']), two.ensureNamespace(['made'])]);
      await cat.ensureNamespace(['made']);
      if (nests) await cat.ensureNamespace(['made', 'deeper']);
      else await assert.rejects(cat.ensureNamespace(['made', 'deeper']), ConfigError);
      await assert.rejects(cat.ensureNamespace([]), ConfigError);
      await assert.rejects(cat.ensureNamespace(['a', '']), ConfigError);
      if (h.listsEmptyNamespaces) {
        assert.ok((await cat.listNamespaces()).some((n) => n.join('.') === 'made'));
        assert.deepEqual(await cat.listNamespaces(['made']), nests ? [['made', 'deeper']] : []);
      }
    });

    it('lists namespaces one level at a time, and the tables directly in one', async () => {
      await commit(cat, { namespace: ['lst'], name: 'b' }, undefined, 'b');
      await commit(cat, { namespace: ['lst'], name: 'a' }, undefined, 'a');
      if (nests) {
        await commit(cat, { namespace: ['lst', 'inner'], name: 'c' }, undefined, 'c');
        await commit(cat, { namespace: ['lst', 'inner', 'deepest'], name: 'd' }, undefined, 'd');
      } else {
        // A one-level catalog refuses a nested table, and registers nothing.
        await assert.rejects(
          commit(cat, { namespace: ['lst', 'inner'], name: 'c' }, undefined, 'c'),
          ConfigError,
        );
      }
      await commit(cat, { namespace: ['lst_x'], name: 'e' }, undefined, 'e');
      const top = await cat.listNamespaces();
      for (const ns of [['db'], ['lst'], ['lst_x']]) {
        assert.ok(
          top.some((n) => n.join('.') === ns.join('.')),
          `${ns} in ${JSON.stringify(top)}`,
        );
      }
      assert.ok(
        top.every((n) => n.length === 1),
        'only top-level namespaces without a parent',
      );
      assert.deepEqual(
        top.map((n) => n.join('.')),
        [...top.map((n) => n.join('.'))].sort(),
        'sorted',
      );
      if (nests) {
        assert.deepEqual(await cat.listNamespaces(['lst']), [['lst', 'inner']]);
        assert.deepEqual(await cat.listNamespaces(['lst', 'inner']), [['lst', 'inner', 'deepest']]);
        assert.deepEqual(await cat.listNamespaces(['lst', 'inner', 'deepest']), []);
      } else assert.deepEqual(await cat.listNamespaces(['lst']), []);
      assert.deepEqual(await cat.listNamespaces(['nowhere']), []);
      assert.deepEqual(await cat.listTables(['lst']), [
        { namespace: ['lst'], name: 'a' },
        { namespace: ['lst'], name: 'b' },
      ]);
      if (nests) {
        assert.deepEqual(await cat.listTables(['lst', 'inner']), [
          { namespace: ['lst', 'inner'], name: 'c' },
        ]);
      }
      assert.deepEqual(await cat.listTables(['lst_x']), [{ namespace: ['lst_x'], name: 'e' }]);
      assert.deepEqual(await cat.listTables(['nowhere']), []);
    });

    it(h.dropsTables ? 'drops a table, keeping its files' : 'offers no dropTable', async () => {
      if (!h.dropsTables) {
        assert.equal(cat.dropTable, undefined);
        return;
      }
      assert.ok(cat.dropTable, `${h.name} offers dropTable`);
      const id = { namespace: ['db'], name: 'dropped' };
      const location = await commit(cat, id, undefined, 'gone soon');
      assert.equal(await cat.dropTable(id), true);
      assert.equal(await cat.loadTable(id), undefined);
      assert.equal(await cat.dropTable(id), false, 'dropping a missing table says so');
      assert.equal(await readBack(location), 'gone soon', 'the files stay');
      assert.ok(!(await cat.listTables(['db'])).some((x) => x.name === 'dropped'));
      // It can be registered again.
      const again = await commit(cat, id, undefined, 'back');
      assert.equal((await cat.loadTable(id))?.metadataLocation, again);
    });

    it('rejects identifiers it cannot store', async () => {
      await assert.rejects(cat.loadTable({ namespace: [], name: 't' }), ConfigError);
      await assert.rejects(cat.loadTable({ namespace: ['db'], name: '' }), ConfigError);
      await assert.rejects(cat.listTables([]), ConfigError);
    });

    it('closes', async () => {
      const c = await env.open();
      await c.close();
    });
  });
}
