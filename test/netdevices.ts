// config-linux.md#network-devices: a host device moved into the container's network namespace,
// renamed, with its permanent global addresses kept and its state up.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Harness } from './helpers/runtime.js';

const h = new Harness(t);
// A veth pair stands in for a host NIC (this kernel has no dummy driver); its addresses are
// from TEST-NET-1 and nothing is sent. The pair dies with the container's network namespace.
const A = `tsv${process.pid % 100000}a`;
const B = `tsv${process.pid % 100000}b`;
t.teardown(() => void spawnSync('ip', ['link', 'del', A]));

t.test('a device moves in, renamed, with its address, up', async (t) => {
  execFileSync('ip', ['link', 'add', A, 'type', 'veth', 'peer', 'name', B]);
  execFileSync('ip', ['addr', 'add', '192.0.2.10/24', 'dev', A]);
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sh', '-c', 'ip addr show eth9'],
    edit: (c) => void (c.linux!.netDevices = { [A]: { name: 'eth9' } }),
  });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /eth9/, 'renamed');
  t.match(r.stdout, /inet 192\.0\.2\.10\/24 scope global eth9/, 'the permanent global address came along');
  t.match(r.stdout, /<[^>]*\bUP\b[^>]*>/, 'set up');
  t.notOk(existsSync(`/sys/class/net/${A}`), 'gone from the host (and with the namespace, the pair)');
});

t.test('bad netDevices are refused before anything is made', async (t) => {
  const id = h.id(t);
  const missing = h.bundle({ edit: (c) => void (c.linux!.netDevices = { 'tsrun-nosuch0': {} }) });
  const a = h.tsrun(['create', '--bundle', missing, id]);
  t.not(a.status, 0);
  t.match(a.stderr, /linux\.netDevices\.tsrun-nosuch0: no such network device/);
  const hostNet = h.bundle({
    edit: (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network');
      c.linux!.netDevices = { lo: {} };
    },
  });
  const b = h.tsrun(['create', '--bundle', hostNet, id]);
  t.not(b.status, 0);
  t.match(b.stderr, /linux\.netDevices: moving devices needs a network namespace/);
  t.equal(h.state(id), null, 'no container');
});
