import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Identifiers and names the Entra ID and ARM parts share: GUIDs derived from names (so a config
 * that leaves an id out still gets the same one on every start), random secrets, base64url, and
 * Azure region names.
 */

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A fixed namespace for name-based (version 5) GUIDs of this emulator. */
const NAMESPACE = Buffer.from('6b0f7a52c93e4d0fa1d4c7e3b2f09a61', 'hex');

/** RFC 4122 version 5 GUID of `name`: the same name always gives the same GUID. */
export function stableGuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newGuid(): string {
  return randomUUID();
}

/** An unguessable handle (codes, flow ids): `bytes` random bytes, base64url. */
export function randomHandle(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A password for a user the config gave none: 18 random characters, printed in the ready line. */
export function generatePassword(): string {
  return randomBytes(14).toString('base64url').slice(0, 18);
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Azure's region names as ARM shows them on Microsoft.Relay and Microsoft.Web resources. */
const REGION_DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  centralus: 'Central US',
  northcentralus: 'North Central US',
  southcentralus: 'South Central US',
  westcentralus: 'West Central US',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  canadacentral: 'Canada Central',
  canadaeast: 'Canada East',
  brazilsouth: 'Brazil South',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  ukwest: 'UK West',
  francecentral: 'France Central',
  germanywestcentral: 'Germany West Central',
  switzerlandnorth: 'Switzerland North',
  norwayeast: 'Norway East',
  swedencentral: 'Sweden Central',
  polandcentral: 'Poland Central',
  italynorth: 'Italy North',
  spaincentral: 'Spain Central',
  eastasia: 'East Asia',
  southeastasia: 'Southeast Asia',
  japaneast: 'Japan East',
  japanwest: 'Japan West',
  koreacentral: 'Korea Central',
  australiaeast: 'Australia East',
  australiasoutheast: 'Australia Southeast',
  centralindia: 'Central India',
  southindia: 'South India',
  uaenorth: 'UAE North',
  southafricanorth: 'South Africa North',
  qatarcentral: 'Qatar Central',
  israelcentral: 'Israel Central',
};

/** "West Europe" or "westeurope" → "westeurope" (ARM's programmatic name). */
export function regionCode(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}

/** "westeurope" → "West Europe"; a region this table does not know is shown as given. */
export function regionDisplayName(region: string): string {
  return REGION_DISPLAY_NAMES[regionCode(region)] ?? region;
}

export const DEFAULT_REGION = 'westus';
