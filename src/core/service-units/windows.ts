import { SERVICE_NAME, type ServiceOptions, runArguments } from './options.js';

/**
 * Windows: Node cannot answer the Service Control Manager itself, so the service is WinSW (the
 * widely used service wrapper; its one executable is copied next to this XML under the same name)
 * running `hcm run`. It restarts the agent when it fails, stops it with Ctrl+C (the agent lets open
 * connections finish within the grace period) and rolls its own output logs. The agent runs as
 * LocalService with its folders under %ProgramData%. Not run here: written and documented only.
 */

export const WINDOWS_SERVICE_ID = SERVICE_NAME;
export const WINDOWS_DIR = '%ProgramData%\\open-hcm';

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Windows command-line quoting (CommandLineToArgvW rules) for WinSW's <arguments>. */
function winQuote(arg: string): string {
  if (arg && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

export function winswXml(o: ServiceOptions): string {
  const [executable, ...rest] = o.command;
  const args = [...rest, ...runArguments(o)].map(winQuote).join(' ');
  return `${[
    '<service>',
    `  <id>${WINDOWS_SERVICE_ID}</id>`,
    '  <name>Open Hybrid Connection Manager</name>',
    '  <description>Listens on Azure Relay Hybrid Connections and bridges each connection to its TCP endpoint.</description>',
    `  <executable>${xml(executable ?? 'node.exe')}</executable>`,
    `  <arguments>${xml(args)}</arguments>`,
    `  <env name="HCM_HOME" value="${WINDOWS_DIR}\\data"/>`,
    `  <env name="HCM_LOG_DIR" value="${WINDOWS_DIR}\\logs"/>`,
    `  <logpath>${WINDOWS_DIR}\\logs</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>5120</sizeThreshold>',
    '    <keepFiles>5</keepFiles>',
    '  </log>',
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <onfailure action="restart" delay="30 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    `  <stoptimeout>${o.graceSeconds + 15} sec</stoptimeout>`,
    '  <startmode>Automatic</startmode>',
    '  <delayedAutoStart>true</delayedAutoStart>',
    '  <serviceaccount>',
    '    <username>NT AUTHORITY\\LocalService</username>',
    '  </serviceaccount>',
    '</service>',
  ].join('\n')}\n`;
}
