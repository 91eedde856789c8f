/**
 * SIGINT/SIGTERM for commands that run until stopped (hcm run, ui, demo). The handlers go in
 * before the command starts or prints anything: a supervisor that reads a ready line and signals
 * at once must never find the default action (the process killed, open tunnels cut) still there.
 * The first signal starts the graceful stop (whenever the command gets to it, even if the signal
 * came while it was still starting); a second one exits at once.
 */

export interface StopSignals {
  /** The first signal's name, once one arrives. */
  readonly first: Promise<NodeJS.Signals>;
}

export function catchStopSignals(onSecond: (signal: NodeJS.Signals) => void = () => process.exit(1)): StopSignals {
  let count = 0;
  let resolveFirst!: (signal: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      count++;
      if (count === 1) resolveFirst(signal);
      else onSecond(signal);
    });
  }
  return { first };
}
