import { type AuthorizationRule, RelayAPI } from '@azure/arm-relay';
import type { TransportOptions } from '../../relay/transport.js';
import { HcmError, errorMessage } from '../../shared/errors.js';
import type { AzureCloudName } from './clouds.js';
import { armClientOptions } from './relay-inventory.js';
import type { AzureAuth } from './sign-in.js';

/**
 * A Listen connection string for a Hybrid Connection, fetched from Azure with listKeys. The rule
 * is chosen as an admin would: one on the Hybrid Connection with exactly Listen (App Service's
 * defaultListener), else one there with Listen, else a namespace rule with Listen (its string then
 * gets the EntityPath). Where it came from is saved, so a rotated key can be fetched again.
 */

export interface AzureRef {
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  namespace: string;
  name: string;
}

export interface AzureOrigin extends AzureRef {
  cloud: AzureCloudName;
  rule: string;
  ruleScope: 'hybridConnection' | 'namespace';
}

export async function fetchListenConnectionString(
  auth: AzureAuth,
  ref: AzureRef,
  options: { transport?: TransportOptions; rule?: Pick<AzureOrigin, 'rule' | 'ruleScope'> } = {},
): Promise<{ connectionString: string; origin: AzureOrigin }> {
  const relay = new RelayAPI(auth.credential(ref.tenantId), ref.subscriptionId, armClientOptions(auth, options.transport));
  const where = `${ref.namespace}/${ref.name}`;
  let chosen = options.rule;
  try {
    if (!chosen) {
      const own: AuthorizationRule[] = [];
      for await (const r of relay.hybridConnections.listAuthorizationRules(ref.resourceGroup, ref.namespace, ref.name)) own.push(r);
      const ownRule = pickListenRule(own);
      if (ownRule) chosen = { rule: ownRule, ruleScope: 'hybridConnection' };
      else {
        const shared: AuthorizationRule[] = [];
        for await (const r of relay.namespaces.listAuthorizationRules(ref.resourceGroup, ref.namespace)) shared.push(r);
        const nsRule = pickListenRule(shared);
        if (!nsRule) {
          throw new HcmError(
            'E_FORBIDDEN',
            `${where} has no shared access policy with Listen rights (nor has its namespace); add one in the portal (Shared access policies)`,
          );
        }
        chosen = { rule: nsRule, ruleScope: 'namespace' };
      }
    }
    const keys =
      chosen.ruleScope === 'hybridConnection'
        ? await relay.hybridConnections.listKeys(ref.resourceGroup, ref.namespace, ref.name, chosen.rule)
        : await relay.namespaces.listKeys(ref.resourceGroup, ref.namespace, chosen.rule);
    let connectionString = keys.primaryConnectionString;
    if (!connectionString) throw new HcmError('E_PROTOCOL', `Azure returned no connection string for the rule ${chosen.rule} of ${where}`);
    // A namespace rule's string names no entity; the agent needs one.
    if (!/;\s*EntityPath\s*=/i.test(connectionString))
      connectionString = `${connectionString.replace(/;?\s*$/, '')};EntityPath=${ref.name}`;
    return { connectionString, origin: { ...ref, cloud: auth.settings.cloud, ...chosen } };
  } catch (err) {
    if (err instanceof HcmError) throw err;
    const status = (err as { statusCode?: number }).statusCode;
    throw new HcmError(
      status === 401 || status === 403 ? 'E_FORBIDDEN' : status === 404 ? 'E_NOT_FOUND' : 'E_SERVICE',
      `cannot read the keys of ${where} from Azure: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

export function pickListenRule(rules: readonly AuthorizationRule[]): string | undefined {
  const withListen = rules.filter((r) => r.name && r.rights.includes('Listen'));
  return (withListen.find((r) => r.rights.length === 1) ?? withListen[0])?.name;
}
