import { HcmError } from '../../shared/errors.js';

/**
 * Where Azure is, per cloud: the Entra ID authority host, Azure Resource Manager and the portal.
 * A custom cloud (Azure Stack, or the emulator's Entra ID and ARM) is given by its full
 * authority and ARM endpoint, through settings or HCM_AZURE_AUTHORITY / HCM_AZURE_ARM.
 */

export type AzureCloudName = 'public' | 'usgov' | 'china' | 'custom';

export interface AzureCloud {
  name: AzureCloudName;
  label: string;
  /** https://login.microsoftonline.com, without a tenant. */
  authorityHost: string;
  /** https://management.azure.com/ (trailing slash). */
  armEndpoint: string;
  portal: string;
}

export const AZURE_CLOUDS: Record<Exclude<AzureCloudName, 'custom'>, AzureCloud> = {
  public: {
    name: 'public',
    label: 'Azure (global)',
    authorityHost: 'https://login.microsoftonline.com',
    armEndpoint: 'https://management.azure.com/',
    portal: 'https://portal.azure.com',
  },
  usgov: {
    name: 'usgov',
    label: 'Azure US Government',
    authorityHost: 'https://login.microsoftonline.us',
    armEndpoint: 'https://management.usgovcloudapi.net/',
    portal: 'https://portal.azure.us',
  },
  china: {
    name: 'china',
    label: 'Azure operated by 21Vianet (China)',
    authorityHost: 'https://login.chinacloudapi.cn',
    armEndpoint: 'https://management.chinacloudapi.cn/',
    portal: 'https://portal.azure.cn',
  },
};

/** The sign-on client id that @azure/identity uses for developer sign-in (a public client). */
export const DEFAULT_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const DEFAULT_TENANT = 'organizations';

export interface AzureSettings {
  cloud: AzureCloudName;
  /** Tenant id or domain, or organizations / common. */
  tenant: string;
  clientId: string;
  /** Custom cloud only: the full authority (with its tenant) and the ARM endpoint. */
  authority?: string;
  armEndpoint?: string;
}

export const DEFAULT_AZURE_SETTINGS: AzureSettings = { cloud: 'public', tenant: DEFAULT_TENANT, clientId: DEFAULT_CLIENT_ID };

/** Saved settings, then the environment on top (HCM_AZURE_CLOUD, _TENANT, _CLIENT_ID, _AUTHORITY, _ARM). */
export function azureSettings(saved: Partial<AzureSettings> | undefined, env: NodeJS.ProcessEnv = process.env): AzureSettings {
  const s: AzureSettings = { ...DEFAULT_AZURE_SETTINGS, ...saved };
  if (env.HCM_AZURE_CLOUD) s.cloud = parseCloudName(env.HCM_AZURE_CLOUD);
  if (env.HCM_AZURE_TENANT) s.tenant = env.HCM_AZURE_TENANT;
  if (env.HCM_AZURE_CLIENT_ID) s.clientId = env.HCM_AZURE_CLIENT_ID;
  if (env.HCM_AZURE_AUTHORITY) {
    s.cloud = 'custom';
    s.authority = env.HCM_AZURE_AUTHORITY;
  }
  if (env.HCM_AZURE_ARM) s.armEndpoint = env.HCM_AZURE_ARM;
  return s;
}

export function parseCloudName(text: string): AzureCloudName {
  const name = text.toLowerCase();
  if (name === 'public' || name === 'usgov' || name === 'china' || name === 'custom') return name;
  throw new HcmError(
    'E_USAGE',
    `unknown cloud "${text.slice(0, 40)}": use public, usgov, china, or custom (with an authority and an ARM endpoint)`,
  );
}

export interface ResolvedCloud {
  cloud: AzureCloud;
  /** Authority with the tenant: https://login.microsoftonline.com/organizations. */
  authority: string;
  /** host[:port] of the authority, for MSAL's knownAuthorities (no instance discovery for custom clouds). */
  authorityHostPort: string;
  /** The ARM token scope: `<ARM endpoint>/.default` (the audience is the ARM endpoint, as in sovereign clouds). */
  armScope: string;
}

export function resolveCloud(settings: AzureSettings): ResolvedCloud {
  let cloud: AzureCloud;
  let authority: string;
  if (settings.cloud === 'custom') {
    if (!settings.authority || !settings.armEndpoint) {
      throw new HcmError('E_CONFIG', 'a custom cloud needs its authority and ARM endpoint (HCM_AZURE_AUTHORITY and HCM_AZURE_ARM)');
    }
    const authorityUrl = httpsUrl(settings.authority, 'authority');
    const arm = httpsUrl(settings.armEndpoint, 'ARM endpoint');
    authority = authorityUrl.href.replace(/\/$/, '');
    cloud = {
      name: 'custom',
      label: `custom cloud (${authorityUrl.host})`,
      authorityHost: authorityUrl.origin,
      armEndpoint: arm.href.endsWith('/') ? arm.href : `${arm.href}/`,
      portal: arm.origin,
    };
  } else {
    cloud = AZURE_CLOUDS[settings.cloud];
    authority = `${cloud.authorityHost}/${encodeURIComponent(settings.tenant)}`;
  }
  return {
    cloud,
    authority,
    authorityHostPort: new URL(authority).host,
    armScope: `${cloud.armEndpoint.replace(/\/$/, '')}/.default`,
  };
}

function httpsUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HcmError('E_CONFIG', `the Azure ${what} "${text.slice(0, 80)}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new HcmError('E_CONFIG', `the Azure ${what} must be https://, not ${url.protocol}`);
  return url;
}
