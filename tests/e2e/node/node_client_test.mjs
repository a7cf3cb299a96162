// Sluice from Node.js: @grpc/grpc-js and @grpc/proto-loader (pinned in package.json)
// against the real sluiced.
//
// Loads protos/sluice/v1/{logs,admin}.proto at run time, starts sluiced on 127.0.0.1 with
// port 0 and a JSON file output (reading the ports from its stderr), streams records over
// Push and over PushBatches (reading every ack), shuts the server down with the admin
// Shutdown RPC, and checks every record in the file.
//
// Run by ctest through run_node_test.sh, which installs node_modules first:
//   node node_client_test.mjs --sluiced build/bin/sluiced --protos protos
// Uses node's built-in test runner; exits non-zero when a test fails.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import test from 'node:test';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const {values: args} = parseArgs({
  options: {sluiced: {type: 'string'}, protos: {type: 'string'}},
});
if (!args.sluiced || !args.protos) {
  console.error('usage: node node_client_test.mjs --sluiced PATH --protos DIR');
  process.exit(2);
}
const SLUICED = resolve(args.sluiced);
const PROTOS = resolve(args.protos);
// Makes the CA, server and client certificates of the TLS test (tests/e2e).
const MAKE_CERTS = fileURLToPath(new URL('../make_test_certs.sh', import.meta.url));

// Bounded waits: generous for a busy 2-core machine, yet a broken server fails, not hangs.
const AWAIT_MS = 60_000;

const packageDefinition = protoLoader.loadSync(['sluice/v1/logs.proto', 'sluice/v1/admin.proto'], {
  includeDirs: [PROTOS],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
});
const sluice = grpc.loadPackageDefinition(packageDefinition).sluice.v1;

function deadline() {
  return Date.now() + AWAIT_MS;
}

// One sluiced process in its own temporary directory, listening on port 0.
class Sluiced {
  static async start(ingestConfig = '') {
    const server = new Sluiced(ingestConfig);
    try {
      await server.ports;
    } catch (error) {
      server.close();
      throw error;
    }
    server.logs = new sluice.LogService(`127.0.0.1:${server.ingestPort}`,
                                        grpc.credentials.createInsecure());
    server.admin = new sluice.AdminService(`127.0.0.1:${server.adminPort}`,
                                           grpc.credentials.createInsecure());
    return server;
  }

  constructor(ingestConfig) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-node-'));
    this.recordsPath = join(this.dir, 'records.log');
    const configPath = join(this.dir, 'sluiced.yaml');
    writeFileSync(configPath, `${ingestConfig}
scheduler: { workers: 4 }
outputs:
  - { type: file, name: main, path: "${this.recordsPath}", format: json, flush_interval: 50ms }
`);
    this.stderr = '';
    this.process = spawn(SLUICED, [
      '--config', configPath, '--ingest_listen', '127.0.0.1:0',
      '--admin_listen', '127.0.0.1:0', '--metrics_listen', '127.0.0.1:0',
    ], {stdio: ['ignore', 'ignore', 'pipe']});
    this.exited = new Promise((resolveExit) => {
      this.process.on('exit', (code, signal) => resolveExit({code, signal}));
    });
    this.ports = new Promise((resolvePorts, rejectPorts) => {
      const timer = setTimeout(
          () => rejectPorts(new Error(`sluiced did not start listening; stderr:\n${this.stderr}`)),
          30_000);
      this.process.stderr.on('data', (chunk) => {
        this.stderr += chunk;
        const ingest = /^sluiced: ingest listening on .*:(\d+)$/m.exec(this.stderr);
        const admin = /^sluiced: admin listening on .*:(\d+)$/m.exec(this.stderr);
        if (ingest && admin) {
          clearTimeout(timer);
          this.ingestPort = Number(ingest[1]);
          this.adminPort = Number(admin[1]);
          resolvePorts();
        }
      });
      this.exited.then(({code}) => {
        clearTimeout(timer);
        rejectPorts(new Error(`sluiced exited with ${code}; stderr:\n${this.stderr}`));
      });
    });
  }

  // The message of every JSON line of the file output, in file order.
  messages() {
    return readFileSync(this.recordsPath, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line).message);
  }

  // The admin Shutdown RPC; the server must drain completely and exit 0.
  async shutdown() {
    const response = await new Promise((resolveCall, rejectCall) => {
      this.admin.Shutdown({timeout_ms: 30000}, {deadline: deadline()},
                          (error, reply) => error ? rejectCall(error) : resolveCall(reply));
    });
    assert.equal(response.drain.completed, true);
    const {code} = await this.exited;
    assert.equal(code, 0, this.stderr);
    return response.drain.counts;
  }

  // Kills the server if it still runs (only this process) and removes the directory.
  close() {
    this.logs?.close();
    this.admin?.close();
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
    }
    rmSync(this.dir, {recursive: true, force: true});
  }
}

function record(message, fields = []) {
  return {level: 'LEVEL_INFO', logger: 'node', message, fields};
}

// Push: a client stream of records, answered with one summary.
function push(server, records) {
  return new Promise((resolveCall, rejectCall) => {
    const call = server.logs.Push({deadline: deadline()},
                                  (error, summary) => error ? rejectCall(error) : resolveCall(summary));
    for (const r of records) call.write(r);
    call.end();
  });
}

// PushBatches: every batch written, every ack read until the server ends the stream.
function pushBatches(server, batches) {
  return new Promise((resolveCall, rejectCall) => {
    const acks = [];
    const call = server.logs.PushBatches({deadline: deadline()});
    call.on('data', (ack) => acks.push(ack));
    call.on('error', rejectCall);
    call.on('status', (status) => {
      if (status.code === grpc.status.OK) resolveCall(acks);
    });
    for (const batch of batches) call.write(batch);
    call.end();
  });
}

test('Push and PushBatches records reach the file', async (t) => {
  const server = await Sluiced.start();
  t.after(() => server.close());

  const pushed = Array.from({length: 3000}, (_, i) => record(`push-${i}`));
  const summary = await push(server, pushed);
  assert.equal(summary.received, 3000);
  assert.equal(summary.accepted, 3000);

  const batches = Array.from({length: 15}, (_, b) => ({
    sequence: b + 1,
    records: Array.from({length: 200}, (_, i) => record(`batch-${b}-${i}`)),
  }));
  const acks = await pushBatches(server, batches);
  assert.deepEqual(acks.map((ack) => ack.sequence), batches.map((batch) => batch.sequence));
  assert.equal(acks.reduce((sum, ack) => sum + ack.accepted, 0), 3000);
  // The default ingest.ack_on: each ack stands for records every output wrote.
  assert.deepEqual([...new Set(acks.map((ack) => ack.stage))], ['ACK_STAGE_WRITTEN']);

  const counts = await server.shutdown();
  assert.equal(counts.received, 6000);
  assert.equal(counts.written, 6000);
  const expected = [
    ...pushed.map((r) => r.message),
    ...batches.flatMap((batch) => batch.records.map((r) => r.message)),
  ];
  assert.deepEqual(server.messages().sort(), expected.sort());
});

test('a record over a limit is rejected naming it, and the rest is written', async (t) => {
  const server = await Sluiced.start('ingest: { max_fields_per_record: 2 }');
  t.after(() => server.close());

  const crowded = record('crowded', [
    {key: 'a', string_value: '1'}, {key: 'b', int_value: 2}, {key: 'c', bool_value: true},
  ]);
  const batch = {sequence: 7, records: [record('kept-0'), crowded, record('kept-1')]};
  const acks = await pushBatches(server, [batch]);
  assert.equal(acks.length, 1);
  assert.equal(acks[0].sequence, 7);
  assert.equal(acks[0].accepted, 2);
  assert.equal(acks[0].rejected, 1);
  assert.equal(acks[0].rejection, 'fields: 3 fields, over ingest.max_fields_per_record (2)');

  const counts = await server.shutdown();
  assert.equal(counts.rejected, 1);
  assert.deepEqual(server.messages(), ['kept-0', 'kept-1']);
});

// One PushBatches batch over `credentials`; resolves with the acks or rejects with the error.
function pushOver(server, credentials, options = {}) {
  const logs = new sluice.LogService(`127.0.0.1:${server.ingestPort}`, credentials, options);
  return pushBatches({logs}, [{sequence: 1, records: [record('over-tls')]}])
      .finally(() => logs.close());
}

test('mTLS: the right CA and client certificate push; a wrong CA or no certificate is refused',
     async (t) => {
       const certs = mkdtempSync(join(tmpdir(), 'sluice-e2e-node-certs-'));
       t.after(() => rmSync(certs, {recursive: true, force: true}));
       const made = spawnSync('/bin/sh', [MAKE_CERTS, certs]);
       assert.equal(made.status, 0, String(made.stderr));
       const file = (name) => readFileSync(join(certs, name));
       const server = await Sluiced.start(`ingest:
  tls: { cert_file: "${join(certs, 'server.pem')}", key_file: "${join(certs, 'server.key')}",
         client_ca_file: "${join(certs, 'ca.pem')}" }`);
       t.after(() => server.close());

       const acks = await pushOver(
           server, grpc.credentials.createSsl(file('ca.pem'), file('client.key'), file('client.pem')));
       assert.equal(acks[0].accepted, 1);
       await assert.rejects(
           pushOver(server, grpc.credentials.createSsl(file('other-ca.pem'), file('client.key'),
                                                       file('client.pem'))),
           (error) => error.code === grpc.status.UNAVAILABLE);
       await assert.rejects(pushOver(server, grpc.credentials.createSsl(file('ca.pem'))),
                            (error) => error.code === grpc.status.UNAVAILABLE);
       await assert.rejects(pushOver(server, grpc.credentials.createInsecure()),
                            (error) => error.code === grpc.status.UNAVAILABLE);

       const counts = await server.shutdown();
       assert.equal(counts.written, 1);
       assert.deepEqual(server.messages(), ['over-tls']);
     });
