import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, type RunningProcess, hcmEnv, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig } from '../helpers/emulator.js';
import { type RealServer, startPostgres, startRedis } from '../helpers/real-servers.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, liveConnection, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * Real database clients through the whole chain, every piece a real process:
 *   client library -> `hcm connect` (forwarder) -> `hcm emulator` (relay, TLS) -> `hcm run` (agent) -> server
 * PostgreSQL and Redis are the Debian servers, started for this file; the echo endpoint is plain TCP.
 */

let postgres: RealServer | undefined;
let redis: RealServer | undefined;
let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let agent: RunningProcess | undefined;
const forwarders: Record<string, Forwarder> = {};

beforeAll(async () => {
  postgres = await startPostgres();
  redis = await startRedis();
  echo = await startEchoServer();
  emu = await startEmulator({
    config: testConfig([
      { name: 'hc-postgres', endpoint: `127.0.0.1:${postgres.port}` },
      { name: 'hc-redis', endpoint: `127.0.0.1:${redis.port}` },
      { name: 'hc-echo', endpoint: `127.0.0.1:${echo.port}` },
    ]),
  });
  env = hcmEnv(emu.ca);
  for (const hc of ['hc-postgres', 'hc-redis', 'hc-echo']) await addConnection(env, emu.hybridConnections[hc]!.listen);
  agent = await startAgent(env, { waitConnected: 3 });
  for (const hc of ['hc-postgres', 'hc-redis', 'hc-echo']) forwarders[hc] = await startForwarder(env, emu.hybridConnections[hc]!.send);
}, 180_000);

afterAll(async () => {
  for (const f of Object.values(forwarders)) await f.stop();
  await agent?.stop();
  await emu?.stop();
  await echo?.close();
  await redis?.stop();
  await postgres?.stop();
  removeHome(env);
  removeDir(emu?.stateDir);
});

/** Rows `id \t hex` in PostgreSQL's text COPY format, generated on the fly until `totalBytes`. */
function copyRows(totalBytes: number, hash: ReturnType<typeof createHash>): { stream: Readable; rows: () => number; bytes: () => number } {
  let id = 0;
  let bytes = 0;
  const stream = new Readable({
    read() {
      if (bytes >= totalBytes) {
        this.push(null);
        return;
      }
      const lines: string[] = [];
      // ~64 KiB per push: 256 rows of ~250 bytes.
      for (let i = 0; i < 256 && bytes < totalBytes; i++) {
        const line = `${++id}\t${randomBytes(120).toString('hex')}\n`;
        lines.push(line);
        bytes += line.length;
      }
      const chunk = Buffer.from(lines.join(''), 'utf8');
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, rows: () => id, bytes: () => bytes };
}

describe('PostgreSQL through the tunnel (pg)', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ host: '127.0.0.1', port: forwarders['hc-postgres']!.port, user: 'postgres', database: 'postgres' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('runs DDL, parameterised queries and transactions', async () => {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    expect(version.rows[0]!.server_version).toMatch(/^\d+/);

    await client.query('CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int NOT NULL, note text)');
    const inserted = await client.query<{ id: number }>(
      'INSERT INTO people (name, age, note) VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9) RETURNING id',
      ['Ada', 36, 'first', 'Grace', 85, "quote ' and backslash \\ and unicode ✓", 'Linus', 54, null],
    );
    expect(inserted.rows.map((r) => r.id)).toEqual([1, 2, 3]);

    const older = await client.query<{ name: string; age: number; note: string | null }>(
      'SELECT name, age, note FROM people WHERE age > $1 ORDER BY age',
      [40],
    );
    expect(older.rows).toEqual([
      { name: 'Linus', age: 54, note: null },
      { name: 'Grace', age: 85, note: "quote ' and backslash \\ and unicode ✓" },
    ]);

    // A rolled-back transaction leaves nothing behind; a committed one stays.
    await client.query('BEGIN');
    await client.query('INSERT INTO people (name, age) VALUES ($1, $2)', ['Rolled', 1]);
    expect((await client.query('SELECT count(*)::int AS n FROM people')).rows[0].n).toBe(4);
    await client.query('ROLLBACK');
    expect((await client.query('SELECT count(*)::int AS n FROM people WHERE name = $1', ['Rolled'])).rows[0].n).toBe(0);

    await client.query('BEGIN');
    await client.query('UPDATE people SET age = age + $1 WHERE name = $2', [1, 'Ada']);
    await client.query('INSERT INTO people (name, age) VALUES ($1, $2)', ['Committed', 2]);
    await client.query('COMMIT');
    const after = await client.query<{ name: string; age: number }>('SELECT name, age FROM people WHERE name = ANY($1) ORDER BY name', [
      ['Ada', 'Committed'],
    ]);
    expect(after.rows).toEqual([
      { name: 'Ada', age: 37 },
      { name: 'Committed', age: 2 },
    ]);

    // A server-side error comes back through the tunnel and the session stays usable.
    await expect(client.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    expect((await client.query('SELECT $1::text AS v', ['still here'])).rows[0].v).toBe('still here');
  });

  it('round-trips 50 MB with COPY FROM STDIN and COPY TO STDOUT, byte for byte', async () => {
    const total = 50 * 1024 * 1024;
    await client.query('CREATE TABLE bulk (id int PRIMARY KEY, payload text NOT NULL)');

    const sentHash = createHash('sha256');
    const source = copyRows(total, sentHash);
    const ingest = client.query(copyFrom('COPY bulk (id, payload) FROM STDIN'));
    await pipeline(source.stream, ingest);
    expect(source.bytes()).toBeGreaterThanOrEqual(total);
    expect(ingest.rowCount).toBe(source.rows());

    const counted = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bulk');
    expect(counted.rows[0]!.n).toBe(source.rows());

    const receivedHash = createHash('sha256');
    let receivedBytes = 0;
    const out = client.query(copyTo('COPY (SELECT id, payload FROM bulk ORDER BY id) TO STDOUT'));
    await pipeline(
      out,
      new Writable({
        write(chunk: Buffer, _enc, done) {
          receivedBytes += chunk.length;
          receivedHash.update(chunk);
          done();
        },
      }),
    );
    expect(receivedBytes).toBe(source.bytes());
    expect(receivedHash.digest('hex')).toBe(sentHash.digest('hex'));
  }, 300_000);
});

describe('Redis through the tunnel (ioredis)', () => {
  let client: Redis;
  let reconnects = 0;

  beforeAll(async () => {
    // No automatic reconnects or resends: a dropped tunnel must fail the test, not be papered over.
    client = new Redis({
      host: '127.0.0.1',
      port: forwarders['hc-redis']!.port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
    });
    client.on('reconnecting', () => reconnects++);
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
  });

  it('SET and GET a 10 MiB value', async () => {
    const value = randomBytes(10 * 1024 * 1024);
    expect(await client.set('big', value)).toBe('OK');
    expect(await client.strlen('big')).toBe(value.length);
    const back = await client.getBuffer('big');
    expect(back).not.toBeNull();
    expect(back!.length).toBe(value.length);
    expect(firstDifference(back!, value)).toBe(-1);
    expect(reconnects).toBe(0);
  }, 120_000);

  it('answers a pipeline of 10,000 commands, every reply checked', async () => {
    const n = 10_000;
    const pipe = client.pipeline();
    // Per i: SET, then INCRBY on a counter, then GET of the key just set (3 commands), plus a final read.
    const triples = Math.floor((n - 1) / 3);
    for (let i = 0; i < triples; i++) {
      pipe.set(`p:${i}`, `value-${i}-${'x'.repeat(i % 50)}`);
      pipe.incrby('p:counter', i);
      pipe.get(`p:${i}`);
    }
    pipe.get('p:counter');
    expect(pipe.length).toBe(n);
    const replies = await pipe.exec();
    expect(replies).not.toBeNull();
    expect(replies!.length).toBe(n);
    let sum = 0;
    for (let i = 0; i < triples; i++) {
      sum += i;
      const [setReply, incrReply, getReply] = [replies![3 * i]!, replies![3 * i + 1]!, replies![3 * i + 2]!];
      expect(setReply).toEqual([null, 'OK']);
      expect(incrReply).toEqual([null, sum]);
      expect(getReply).toEqual([null, `value-${i}-${'x'.repeat(i % 50)}`]);
    }
    expect(replies![n - 1]).toEqual([null, String(sum)]);
    expect(reconnects).toBe(0);
  }, 120_000);
});

describe('TCP echo endpoint through the tunnel', () => {
  it('returns 8 MiB of random data, every byte', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const socket = await connectTcp(forwarders['hc-echo']!.port);
    try {
      const back = await echoRoundTrip(socket, payload);
      expect(back.length).toBe(payload.length);
      expect(firstDifference(back, payload)).toBe(-1);
    } finally {
      socket.destroy();
    }
  }, 120_000);

  it('the agent counted the tunnels and bytes, with no failures', async () => {
    for (const hc of ['hc-postgres', 'hc-redis', 'hc-echo']) {
      const c = await liveConnection(env!, hc);
      expect(c.status, hc).toBe('Connected');
      expect(c.counters.failedConnections, hc).toBe(0);
      expect(c.counters.totalConnections, hc).toBeGreaterThanOrEqual(1);
      expect(c.counters.bytesToEndpoint, hc).toBeGreaterThan(0);
      expect(c.counters.bytesFromEndpoint, hc).toBeGreaterThan(0);
    }
    // The big transfers went through this agent (not around it): its byte counters saw them.
    const pgCounters = (await liveConnection(env!, 'hc-postgres')).counters;
    expect(pgCounters.bytesToEndpoint).toBeGreaterThan(50 * 1024 * 1024);
    expect(pgCounters.bytesFromEndpoint).toBeGreaterThan(50 * 1024 * 1024);
    const redisCounters = (await liveConnection(env!, 'hc-redis')).counters;
    expect(redisCounters.bytesToEndpoint).toBeGreaterThan(10 * 1024 * 1024);
    expect(redisCounters.bytesFromEndpoint).toBeGreaterThan(10 * 1024 * 1024);
    const echoCounters = (await liveConnection(env!, 'hc-echo')).counters;
    expect(echoCounters.bytesToEndpoint).toBe(8 * 1024 * 1024);
    expect(echoCounters.bytesFromEndpoint).toBe(8 * 1024 * 1024);
  });
});
