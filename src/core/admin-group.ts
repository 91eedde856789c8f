import { readFileSync } from './fs-sync.js';
import { HcmError } from '../shared/errors.js';

/**
 * The admin group of a system service (HCM_ADMIN_GROUP): a group name or a numeric gid. Node has
 * no getgrnam(), so a name is looked up in /etc/group (where `systemd-sysusers` and `groupadd`
 * put it); a group that only a directory service knows is given by its number instead.
 */
export function resolveGroupId(nameOrGid: string, groupFile = '/etc/group'): number {
  const text = nameOrGid.trim();
  if (/^\d+$/.test(text)) return Number(text);
  let table: string;
  try {
    table = readFileSync(groupFile, 'utf8');
  } catch (err) {
    throw new HcmError(
      'E_CONFIG',
      `HCM_ADMIN_GROUP=${text}: ${groupFile} cannot be read (${(err as NodeJS.ErrnoException).code}); give the group's number instead`,
    );
  }
  for (const line of table.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === text && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new HcmError(
    'E_CONFIG',
    `HCM_ADMIN_GROUP=${text}: no such group in ${groupFile}; create it (hcm service install does) or give its number`,
  );
}

/** The groups this process is in (the effective group included, as Node promises). */
export function myGroups(): number[] {
  return process.getgroups?.() ?? [];
}
