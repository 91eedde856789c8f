/**
 * Checks the arguments of a contract call before it reaches the service. Every transport that
 * receives calls from outside its process (Electron IPC, the browser host's WebSocket) runs
 * this first, so a compromised or buggy caller cannot hand the service odd shapes.
 * Plain TypeScript on purpose: src/shared has no runtime dependencies.
 */
import { HCM_METHODS, type HcmMethod } from './api.js';
import { HcmError } from './errors.js';

export class ArgumentError extends HcmError {
  constructor(message: string) {
    super('E_ARGS', message);
    this.name = 'ArgumentError';
  }
}

const MAX_ID = 300;
const MAX_CONNECTION_STRING = 4096;
const MAX_ENDPOINT = 300;
const MAX_TENANT = 256;

export function isHcmMethod(name: unknown): name is HcmMethod {
  return typeof name === 'string' && (HCM_METHODS as readonly string[]).includes(name);
}

/** Returns the arguments to pass on, or throws ArgumentError naming what is wrong. */
export function validateArgs(method: HcmMethod, args: unknown): unknown[] {
  if (!Array.isArray(args)) throw new ArgumentError(`${method}: arguments must be a list`);
  switch (method) {
    case 'getAppInfo':
    case 'listConnections':
    case 'getUpdateState':
    case 'checkForUpdates':
    case 'installUpdate':
    case 'startDemo':
    case 'stopDemo':
    case 'getLogLevel':
    case 'openLogFolder':
    case 'getProxy':
    case 'clearProxy':
    case 'getAzureState':
    case 'signOutOfAzure':
    case 'listAzureHybridConnections':
      expectCount(method, args, 0, 0);
      return [];
    case 'getConnection':
    case 'removeConnection':
    case 'restartConnection':
    case 'testConnection':
    case 'sendTestTraffic':
    case 'acceptEndpointChange':
      expectCount(method, args, 1, 1);
      return [text(method, 'id', args[0], MAX_ID)];
    case 'validateConnectionString':
      expectCount(method, args, 1, 1);
      return [text(method, 'connectionString', args[0], MAX_CONNECTION_STRING, true)];
    case 'addConnection': {
      expectCount(method, args, 1, 1);
      const input = record(method, 'input', args[0], ['connectionString', 'endpoint']);
      const out: { connectionString: string; endpoint?: string } = {
        connectionString: text(method, 'connectionString', input.connectionString, MAX_CONNECTION_STRING),
      };
      if (input.endpoint !== undefined) out.endpoint = text(method, 'endpoint', input.endpoint, MAX_ENDPOINT);
      return [out];
    }
    case 'replaceConnectionString':
      expectCount(method, args, 2, 2);
      return [text(method, 'id', args[0], MAX_ID), text(method, 'connectionString', args[1], MAX_CONNECTION_STRING)];
    case 'setEndpoint':
      expectCount(method, args, 2, 2);
      return [text(method, 'id', args[0], MAX_ID), text(method, 'endpoint', args[1], MAX_ENDPOINT)];
    case 'setLogLevel': {
      expectCount(method, args, 1, 1);
      const level = args[0];
      if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') {
        throw new ArgumentError(`${method}: level must be debug, info, warn or error`);
      }
      return [level];
    }
    case 'setProxy': {
      expectCount(method, args, 1, 1);
      const o = record(method, 'input', args[0], ['url', 'noProxy', 'username', 'password']);
      const out: { url: string; noProxy?: string[]; username?: string; password?: string } = {
        url: text(method, 'url', o.url, MAX_ENDPOINT),
      };
      if (o.noProxy !== undefined) {
        if (!Array.isArray(o.noProxy) || o.noProxy.length > 100)
          throw new ArgumentError(`${method}: noProxy must be a list of up to 100 entries`);
        out.noProxy = o.noProxy.map((e: unknown) => text(method, 'noProxy entry', e, MAX_ENDPOINT));
      }
      if (o.username !== undefined) out.username = text(method, 'username', o.username, 256);
      if (o.password !== undefined) out.password = text(method, 'password', o.password, 256, true);
      return [out];
    }
    case 'beginAzureSignIn': {
      expectCount(method, args, 1, 1);
      const o = record(method, 'options', args[0], ['method', 'cloud', 'tenant']);
      if (o.method !== 'browser' && o.method !== 'device-code') throw new ArgumentError(`${method}: method must be browser or device-code`);
      const out: { method: 'browser' | 'device-code'; cloud?: 'public' | 'usgov' | 'china' | 'custom'; tenant?: string } = {
        method: o.method,
      };
      if (o.cloud !== undefined) {
        if (o.cloud !== 'public' && o.cloud !== 'usgov' && o.cloud !== 'china' && o.cloud !== 'custom') {
          throw new ArgumentError(`${method}: cloud must be public, usgov, china or custom`);
        }
        out.cloud = o.cloud;
      }
      if (o.tenant !== undefined) out.tenant = text(method, 'tenant', o.tenant, MAX_TENANT);
      return [out];
    }
    case 'addFromAzure': {
      expectCount(method, args, 1, 1);
      if (!Array.isArray(args[0]) || args[0].length === 0 || args[0].length > 500) {
        throw new ArgumentError(`${method}: selections must be a list of 1 to 500`);
      }
      const keys = ['tenantId', 'subscriptionId', 'resourceGroup', 'namespace', 'name'] as const;
      return [
        args[0].map((item: unknown) => {
          const r = record(method, 'selection', item, [...keys]);
          return Object.fromEntries(keys.map((k) => [k, text(method, k, r[k], MAX_ID)]));
        }),
      ];
    }
    case 'listTunnels': {
      expectCount(method, args, 1, 2);
      const id = text(method, 'id', args[0], MAX_ID);
      if (args[1] === undefined) return [id];
      const o = record(method, 'options', args[1], ['limit']);
      return [id, o.limit === undefined ? {} : { limit: integer(method, 'limit', o.limit, 1, 10_000) }];
    }
    case 'closeTunnel':
      expectCount(method, args, 2, 2);
      return [text(method, 'id', args[0], MAX_ID), text(method, 'tunnelId', args[1], MAX_ID + 20)];
    case 'handOver': {
      expectCount(method, args, 1, 1);
      const o = record(method, 'options', args[0], ['graceMs']);
      return [{ graceMs: integer(method, 'graceMs', o.graceMs, 0, 3_600_000) }];
    }
    case 'getLogs': {
      expectCount(method, args, 0, 1);
      if (args[0] === undefined) return [];
      const options = record(method, 'options', args[0], ['afterSeq', 'limit']);
      const out: { afterSeq?: number; limit?: number } = {};
      if (options.afterSeq !== undefined) out.afterSeq = integer(method, 'afterSeq', options.afterSeq, 0, Number.MAX_SAFE_INTEGER);
      if (options.limit !== undefined) out.limit = integer(method, 'limit', options.limit, 1, 10_000);
      return [out];
    }
    default: {
      const never: never = method;
      throw new ArgumentError(`unknown method ${String(never)}`);
    }
  }
}

function expectCount(method: string, args: unknown[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new ArgumentError(`${method}: expected ${want} argument(s), got ${args.length}`);
  }
}

function text(method: string, name: string, value: unknown, max: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw new ArgumentError(`${method}: ${name} must be a string`);
  if (!allowEmpty && value.length === 0) throw new ArgumentError(`${method}: ${name} must not be empty`);
  if (value.length > max) throw new ArgumentError(`${method}: ${name} is longer than ${max} characters`);
  return value;
}

function integer(method: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentError(`${method}: ${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function record(method: string, name: string, value: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArgumentError(`${method}: ${name} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ArgumentError(`${method}: unexpected field "${key}" in ${name}`);
  }
  return value as Record<string, unknown>;
}
