// instanceSets: instances.json events → what the file says, read once per settled burst
//
//   event$:  c-c-c-------d----     c = changed, d = deleted
//   read:        (after 3 quiet frames) ^(t|)
//   out:     -------s-------e     s = parsed set, e = empty set (no read)
import { Observable } from 'rxjs';
import { InstancesRead } from '../../streams/instance';
import { instanceSets } from '../../streams/instanceSets';
import { parseInstances } from '../../src/agent/instancesCodec';
import { newTestScheduler } from './fixtures';

const file = JSON.stringify({
  instances: [{ application_id: 'app-1', instance_index: 0, warden_job_id: 5, warden_container_path: '/depot/c1', state: 'RUNNING', extra: true }],
});
const set: InstancesRead = parseInstances(file);
const empty: InstancesRead = { ok: true, instances: [] };

describe('instanceSets', () => {
  it('reads the file once after a burst of events has settled', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('c-c-c---------', { c: 'changed' as const });
      const read = cold('(t|)', { t: file });
      expectObservable(instanceSets(event$, () => read, parseInstances, { settleMs: 3, scheduler: testScheduler })).toBe('-------s', { s: set });
      expectSubscriptions(read.subscriptions).toBe('-------(^!)');
    });
  });

  it('still reads a file that never stops changing, every maxWaitMs', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const event$ = hot('c-c-c-c-c-c-c-c-c-c-c-c-', { c: 'changed' as const });
      const read = cold('(t|)', { t: file });
      expectObservable(instanceSets(event$, () => read, parseInstances, { settleMs: 3, maxWaitMs: 8, scheduler: testScheduler })).toBe(
        '--------s---------s------s', // at most 8 after a burst's first event; 3 after its last
        { s: set },
      );
    });
  });

  it('is the empty set when the file is deleted, without reading it', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('c-----d-----', { c: 'changed' as const, d: 'deleted' as const });
      const read = cold('(t|)', { t: file });
      expectObservable(instanceSets(event$, () => read, parseInstances, { settleMs: 1, scheduler: testScheduler })).toBe('-s-----e', { s: set, e: empty });
      expectSubscriptions(read.subscriptions).toBe('-(^!)');
    });
  });

  it('is the empty set when the file is gone by the time it is read', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const event$ = hot('c---', { c: 'changed' as const });
      expectObservable(instanceSets(event$, () => cold<string | null>('(n|)', { n: null }), parseInstances, { settleMs: 1, scheduler: testScheduler })).toBe('-e', { e: empty });
    });
  });

  it('passes an unusable file on as such, for the owner to count, and goes on', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const event$ = hot('a--b--c--d--', { a: 'changed' as const, b: 'changed' as const, c: 'changed' as const, d: 'changed' as const });
      const texts = ['{"instances": [', '{"instances": [{"application_id": "bad app"}]}', file];
      let n = 0;
      const read = () => (n < texts.length ? cold('(t|)', { t: texts[n++] }) : cold<string>('#', undefined, new Error('EACCES: permission denied')));
      expectObservable(instanceSets(event$, read, parseInstances, { settleMs: 1, scheduler: testScheduler })).toBe('-j--i--s--u', {
        j: { ok: false, reason: 'not_json', detail: expect.stringContaining('JSON') },
        i: { ok: false, reason: 'invalid', detail: expect.stringContaining('/instances/0') },
        s: set,
        u: { ok: false, reason: 'unreadable', detail: 'EACCES: permission denied' },
      });
    });
  });

  it('cancels a slow read when a newer change settles: the newest content wins', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const event$ = hot('c--c------', { c: 'changed' as const });
      const reads: Observable<string>[] = [cold('----(t|)', { t: '{"instances": []}' }), cold('----(t|)', { t: file })];
      const read = cold('----(t|)', { t: file });
      let n = 0;
      expectObservable(instanceSets(event$, () => reads[n++] ?? read, parseInstances, { settleMs: 1, scheduler: testScheduler })).toBe('--------s', { s: set });
    });
  });
});

describe('parseInstances', () => {
  it('maps the DEA fields to instances with their socket directory, ignoring extra fields', () => {
    expect(set).toEqual({ ok: true, instances: [{ key: 'app-1/0@/depot/c1/jobs/5', appId: 'app-1', index: 0, jobDir: '/depot/c1/jobs/5' }] });
  });

  it('refuses a relative container path, a negative index and a missing job id', () => {
    for (const bad of [
      { application_id: 'a', instance_index: 0, warden_job_id: 1, warden_container_path: 'relative/path' },
      { application_id: 'a', instance_index: -1, warden_job_id: 1, warden_container_path: '/x' },
      { application_id: 'a', instance_index: 0, warden_container_path: '/x' },
      { application_id: 'a', instance_index: 0, warden_job_id: '../../etc', warden_container_path: '/x' },
    ]) {
      expect(parseInstances(JSON.stringify({ instances: [bad] }))).toMatchObject({ ok: false, reason: 'invalid' });
    }
    expect(parseInstances('[]')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(parseInstances('')).toMatchObject({ ok: false, reason: 'not_json' });
  });
});
